import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import pg from 'pg';
import { freePort } from './nginx';

/** Where Debian's packages put each major version's programs. */
const DEBIAN_ROOT = '/usr/lib/postgresql';
/** The superuser initdb creates; local connections need no password (trust), since only this machine reaches them. */
const SUPERUSER = 'parley';
/** As root, PostgreSQL's programs refuse to run: they run as this user (Debian's package creates it). */
const SYSTEM_USER = 'postgres';

/**
 * The newest installed version's bin directory, or undefined when there is none: only outside CI, where the
 * tests that need it skip with `MISSING`; .ci/run installs Debian's package, so in CI a missing one is an error.
 */
function binaries(): string | undefined {
  const versions = existsSync(DEBIAN_ROOT) ? readdirSync(DEBIAN_ROOT).filter((v) => existsSync(join(DEBIAN_ROOT, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest !== undefined) return join(DEBIAN_ROOT, newest, 'bin');
  if (process.env.CI === 'true')
    throw new Error('PostgreSQL is not installed, and CI must run these tests: .ci/run installs it with apt-get');
  return undefined;
}

const BIN = binaries();

/** Why the PostgreSQL tests skip here, or undefined if they run. */
export const POSTGRES_MISSING: string | undefined = BIN
  ? undefined
  : `PostgreSQL is not installed (Debian: apt-get install postgresql); these tests start one from ${DEBIAN_ROOT}/*/bin`;

/** A PostgreSQL server of this test file's own, in a temporary directory. */
export interface TestPostgres {
  /** A new empty database on it: its postgres:// URL. */
  createDatabase(): Promise<string>;
  /** Stops the server as a crash would (its data stays), runs `whileDown`, then starts it again on the same port. */
  outage(whileDown: () => Promise<void>): Promise<void>;
}

/** Signals that end a test process without its exit handlers (SIGKILL cannot be caught: it leaves the server running). */
const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

let started: Promise<Server> | undefined;
/** Server settings (`name=value`) for this process's PostgreSQL, given before it starts (see configurePostgres). */
let settings: string[] = [];

/** Settings for the PostgreSQL this process will start, e.g. `shared_preload_libraries=pg_stat_statements` (the bench's). */
export function configurePostgres(values: string[]): void {
  if (started) throw new Error('PostgreSQL has started already: configure it before the first database');
  settings = values;
}

/** A new empty database on this process's PostgreSQL, started at the first call and stopped when the process exits. */
export async function createTestDatabase(): Promise<string> {
  started ??= start();
  return (await started).createDatabase();
}

/**
 * This test file's PostgreSQL, stopped and removed after the file's tests rather than at exit. Call at the top
 * level of a test file.
 */
export function usePostgres(): TestPostgres {
  after(async () => {
    if (started) (await started).stop();
    started = undefined;
  });
  return {
    createDatabase: createTestDatabase,
    outage: async (whileDown) => {
      const server = await started!;
      server.halt();
      try {
        await whileDown();
      } finally {
        server.resume();
      }
    },
  };
}

interface Server {
  createDatabase(): Promise<string>;
  halt(): void;
  resume(): void;
  stop(): void;
}

/** Runs one of PostgreSQL's programs, as the postgres user when we are root. */
function run(program: string, args: string[]): string {
  const path = join(BIN!, program);
  const asRoot = process.getuid?.() === 0;
  return execFileSync(asRoot ? 'runuser' : path, asRoot ? ['-u', SYSTEM_USER, '--', path, ...args] : args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function start(): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-postgres-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', SYSTEM_USER], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', SYSTEM_USER], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const log = join(dir, 'postgres.log');
  const stop = (): void => {
    // Synchronous, so that it also runs from an exit handler; 'immediate': the tests' data is thrown away.
    spawnSync(process.getuid?.() === 0 ? 'runuser' : join(BIN!, 'pg_ctl'), [
      ...(process.getuid?.() === 0 ? ['-u', SYSTEM_USER, '--', join(BIN!, 'pg_ctl')] : []),
      ...['-D', data, '-m', 'immediate', '-w', 'stop'],
    ]);
    rmSync(dir, { recursive: true, force: true });
  };
  // Also when the test runner ends this process (a file past its timeout): PostgreSQL runs apart from it.
  const stopAndDie = (signal: NodeJS.Signals): void => {
    stop();
    process.kill(process.pid, signal);
  };
  const unwatch = (): void => {
    process.removeListener('exit', stop);
    for (const signal of SIGNALS) process.removeListener(signal, stopAndDie);
  };
  process.once('exit', stop);
  for (const signal of SIGNALS) process.once(signal, stopAndDie);
  try {
    // --no-sync only for initdb's own files; the server fsyncs its commits as in production.
    run('initdb', ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const begin = (): void =>
        void run('pg_ctl', [
          '-D',
          data,
          '-l',
          log,
          '-w',
          '-t',
          '30',
          '-o',
          [`-h 127.0.0.1 -p ${port} -k ${dir}`, ...settings.map((v) => `-c ${v}`)].join(' '),
          'start',
        ]);
      try {
        begin();
      } catch (error) {
        // Another program may have taken the port between our look and its bind: try another.
        const said = existsSync(log) ? readFileSync(log, 'utf8') : '';
        if (attempt < 3 && /could not bind|Address already in use/.test(said)) continue;
        throw new Error(`PostgreSQL did not start: ${String(error)}\n${said}`, { cause: error });
      }
      return server(port, {
        halt: () => void run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
        resume: begin,
        stop: () => {
          unwatch();
          stop();
        },
      });
    }
  } catch (error) {
    unwatch();
    stop();
    throw error;
  }
}

function server(port: number, control: Pick<Server, 'halt' | 'resume' | 'stop'>): Server {
  const url = (database: string): string => `postgresql://${SUPERUSER}@127.0.0.1:${port}/${database}`;
  let databases = 0;
  return {
    createDatabase: async () => {
      const name = `parley_${process.pid}_${++databases}`;
      const admin = new pg.Client({ connectionString: url('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    ...control,
  };
}
