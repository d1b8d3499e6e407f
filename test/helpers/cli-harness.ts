import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParleyClient, type ClientEvents } from '../../src/client/parley-client';
import type { Clock } from '../../src/server/clock';
import { silentLogger } from '../../src/server/log';
import type { Timings } from '../../src/server/options';
import { createParleyServer, type ParleyServer } from '../../src/server/server';

/** How long a test waits for something the terminal client should print. */
export const WAIT_MS = 5000;

export const passwordOf = (username: string): string => `${username}-secret`;

export interface CliServer {
  server: ParleyServer;
  port: number;
  url: string;
  /** A ParleyClient signed in as `username`; closed with the server. */
  signIn(username: string): Promise<ParleyClient>;
  /** Closes every client, the server, and removes its data directory. Safe to call twice. */
  close(): Promise<void>;
}

/** A real message center on a loopback port with a temporary data directory; each user's password is passwordOf(user). */
export async function startCliServer(users: string[], options: { clock?: Clock; timings?: Partial<Timings> } = {}): Promise<CliServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-cli-test-'));
  const server = await createParleyServer({
    port: 0,
    dataDir,
    scryptCost: { N: 1024, r: 8, p: 1 },
    log: silentLogger,
    timings: { blockMs: 30_000, ...options.timings },
    ...(options.clock && { clock: options.clock }),
  });
  for (const user of users) await server.accounts.add(user, passwordOf(user));
  const { port } = await server.listen();
  const url = `http://127.0.0.1:${port}`;
  const clients: ParleyClient[] = [];
  let closed: Promise<void> | undefined;
  return {
    server,
    port,
    url,
    signIn: async (username) => {
      const client = new ParleyClient(url, { requestTimeoutMs: 3000 });
      clients.push(client);
      await client.connect();
      await client.login(username, passwordOf(username));
      return client;
    },
    close: () =>
      (closed ??= (async () => {
        for (const client of clients) client.close();
        await server.close();
        rmSync(dataDir, { recursive: true, force: true });
      })()),
  };
}

/** The terminal client (`src/cli/main.ts`) in a child process, fed through stdin, its output gathered. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  /** Resolves once the process has exited and its output has been read to the end. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;
  /** waitFor looks at stdout from here on, so that the same text printed twice can be waited for twice. */
  private cursor = 0;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: 'pipe' });
    this.child.stdout.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.child.stdin.on('error', () => {}); // writing after the process ended is the test's business, not a crash
    this.exited = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        this.done = true;
        resolve({ code, signal });
      }),
    );
  }

  get running(): boolean {
    return !this.done;
  }

  /** Writes each argument as one line to stdin. */
  write(...lines: string[]): void {
    for (const line of lines) this.child.stdin.write(line + '\n');
  }

  /** Ends stdin (Ctrl-D). */
  end(): void {
    this.child.stdin.end();
  }

  /**
   * Waits until stdout, from where the last wait stopped, matches `pattern`; returns the match.
   * Fails after `ms`, or as soon as the process has ended without printing it, showing all output.
   */
  async waitFor(pattern: RegExp, ms = WAIT_MS): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const ended = this.done;
      const match = pattern.exec(this.stdout.slice(this.cursor));
      if (match) {
        this.cursor += match.index + match[0].length;
        return match;
      }
      if (ended || Date.now() > deadline) {
        throw new Error(
          `${ended ? 'the client exited' : `${ms} ms passed`} without printing ${pattern}\n` +
            `--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}--- end ---`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Resolves with the exit code, or fails after `ms` (the process is then killed). */
  async exitCode(ms = WAIT_MS): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.kill();
        reject(new Error(`the client did not exit within ${ms} ms\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`));
      }, ms);
    });
    try {
      return (await Promise.race([this.exited, timeout])).code;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** The next `event` from `client` that satisfies `match`, or a failure after `ms`. */
export function nextEvent<E extends keyof ClientEvents>(
  client: ParleyClient,
  event: E,
  match: (...args: ClientEvents[E]) => boolean = () => true,
  ms = WAIT_MS,
): Promise<ClientEvents[E]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: ClientEvents[E]): void => {
      if (!match(...args)) return;
      clearTimeout(timer);
      client.off(event, listener as never);
      resolve(args);
    };
    const timer = setTimeout(() => {
      client.off(event, listener as never);
      reject(new Error(`no matching "${String(event)}" event within ${ms} ms`));
    }, ms);
    client.on(event, listener as never);
  });
}

/** Escapes text for use inside a RegExp. */
export const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `HH:MM`, or `YYYY-MM-DD HH:MM` when not today: written here independently of src/cli/format.ts. */
export function expectedStamp(at: number): string {
  const d = new Date(at);
  const p = (n: number): string => String(n).padStart(2, '0');
  const time = `${p(d.getHours())}:${p(d.getMinutes())}`;
  return d.toDateString() === new Date().toDateString() ? time : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${time}`;
}
