// The message center as its own process, started from the built `parley-server` (dist/server-cli.js), so that a
// UI test can stop it and start it again on the same port and data directory, as an operator's restart would.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, ROOT, freePort } from './harness';

const SERVER_CLI = join(ROOT, 'dist', 'server-cli.js');

export class ServerProcess {
  readonly url: string;
  private child: ChildProcess | undefined;
  private starts = 0;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly name: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** A server on a free loopback port with these "username password" accounts. */
  static async start(name: string, accounts: Record<string, string>): Promise<ServerProcess> {
    const dir = mkdtempSync(join(tmpdir(), `parley-ui-server-${name}-`));
    const lines = Object.entries(accounts).map(([user, password]) => `${user} ${password}`);
    writeFileSync(join(dir, 'users.txt'), `${lines.join('\n')}\n`);
    const server = new ServerProcess(await freePort(), dir, name);
    await server.restart();
    return server;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process (again) on the same port and data directory; resolves once it listens. */
  async restart(): Promise<void> {
    if (this.running) throw new Error('the server is already running');
    // Started before any window, it may be the first to write there.
    mkdirSync(ARTIFACTS, { recursive: true });
    const log = createWriteStream(join(ARTIFACTS, `${this.name}.server-${++this.starts}.log`));
    const args = [SERVER_CLI, String(this.port), '--data', join(this.dir, 'data'), '--credentials', join(this.dir, 'users.txt')];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stderr?.pipe(log);
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        out += chunk.toString();
        if (out.includes('is running')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`parley-server exited (${code}) before listening; see ${ARTIFACTS}`)));
    });
  }

  /** Stops it the way an operator does (SIGTERM: it tells the clients and flushes storage) and waits for the exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }

  async close(): Promise<void> {
    if (this.running) {
      this.child?.kill('SIGKILL');
      await new Promise((r) => this.child?.once('exit', r));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
