import type { TestContext } from 'node:test';
import type { Timings } from '../../src/server/options';
import { passwordOf, startServer, TestClock, type TestServer } from './server';
import { Program } from './processes';

export { WAIT_MS } from './processes';
export { next as nextEvent, passwordOf } from './server';

export type CliServer = TestServer;

/** A real message center on a loopback port for terminal-client tests; each user's password is passwordOf(user). */
export function startCliServer(users: string[], options: { clock?: TestClock; timings?: Partial<Timings> } = {}): Promise<CliServer> {
  return startServer({ users, timings: { blockMs: 30_000, ...options.timings } }, options.clock ?? new TestClock(Date.now(), true));
}

/** The terminal client (`src/cli/main.ts`) in a child process, fed through stdin, its output gathered. */
export class CliProcess extends Program {
  constructor(args: string[]) {
    super('src/cli/main.ts', args);
  }
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

/** The terminal client signed in as `username` on the server at `port`, killed when the test ends. */
export async function signedInTerminal(t: TestContext, port: number, username: string): Promise<CliProcess> {
  const cli = new CliProcess(['127.0.0.1', String(port)]);
  t.after(() => cli.kill());
  cli.write(username, passwordOf(username));
  await cli.waitFor(new RegExp(`Welcome to Parley, ${username}!`));
  return cli;
}

/** A whole line of output. */
export const line = (text: string): RegExp => new RegExp(`^${literal(text)}$`, 'm');

/** The prompt shown last (on stderr): the conversation the terminal is in. */
export const prompt = (text: string): RegExp => new RegExp(`${literal(text)}$`);
