import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** How long a test waits for something a program should print. */
export const WAIT_MS = 15_000;

/** How to start a program that is not one of our sources: an installed one, say, through npx. */
export interface Launch {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** In a process group of its own, which kill() ends as a whole: what it started too (npx's child). */
  detached?: boolean;
}

/** One of our programs in a child process (run through tsx, or as `Launch` says), fed through stdin, its output gathered. */
export class Program {
  readonly child: ChildProcessWithoutNullStreams;
  stdout = '';
  stderr = '';
  /** Resolves once the process has exited and its output has been read to the end. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;
  private readonly group: boolean;
  /** waitFor looks at stdout from here on, so that the same text printed twice can be waited for twice. */
  private cursor = 0;

  /** `env` adds to (or, with undefined, removes from) the test's own environment; a `Launch` brings its own. */
  constructor(entry: string | Launch, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
    const launch: Launch =
      typeof entry === 'string'
        ? { command: process.execPath, args: ['--import', 'tsx', entry, ...args], env: { ...process.env, ...env } }
        : entry;
    this.group = launch.detached === true;
    this.child = spawn(launch.command, launch.args, { stdio: 'pipe', cwd: launch.cwd, env: launch.env, detached: launch.detached });
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
    const match = await this.poll(() => this.stdout.slice(this.cursor), pattern, 'printing', ms);
    this.cursor += match.index + match[0].length;
    return match;
  }

  /** Waits until all of stderr (where prompts go) matches `pattern`: it is a separate stream, so stdout's order says nothing of it. */
  waitForStderr(pattern: RegExp, ms = WAIT_MS): Promise<RegExpExecArray> {
    return this.poll(() => this.stderr, pattern, 'writing to stderr', ms);
  }

  private async poll(read: () => string, pattern: RegExp, what: string, ms: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const ended = this.done;
      const match = pattern.exec(read());
      if (match) return match;
      if (ended || Date.now() > deadline) {
        throw new Error(
          `${ended ? 'the program exited' : `${ms} ms passed`} without ${what} ${pattern}\n` +
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
        reject(new Error(`the program did not exit within ${ms} ms\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`));
      }, ms);
    });
    try {
      return (await Promise.race([this.exited, timeout])).code;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.group && this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, signal);
      } catch {
        // the whole group has ended
      }
    } else if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}
