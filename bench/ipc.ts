/**
 * Typed request/reply over Node's IPC channel between the orchestrator and its child processes
 * (servers and load agents), plus one-way events from a child. Every call has a timeout, and a
 * child exits by itself when its parent goes away, so that nothing outlives the bench.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { errorDetail } from '../src/protocol/errors';

/** A command map: name -> [argument, result]. */
export type Commands = Record<string, [unknown, unknown]>;

export type Handlers<C extends Commands> = { [K in keyof C]: (args: C[K][0]) => C[K][1] | Promise<C[K][1]> };

interface CallMessage {
  rpc: number;
  cmd: string;
  args: unknown;
}
interface ReplyMessage {
  rpc: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}
interface EventMessage {
  event: string;
  data: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The parent's side: calls a child's handlers and hears its events. */
export class Rpc<C extends Commands, E extends Record<string, unknown> = Record<string, never>> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly listeners = new Map<keyof E, (data: never) => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly child: ChildProcess,
    readonly label: string,
  ) {
    child.on('message', (message: unknown) => {
      if (!isObject(message)) return;
      if (typeof message.event === 'string') {
        const { event, data } = message as unknown as EventMessage;
        (this.listeners.get(event) as ((d: unknown) => void) | undefined)?.(data);
        return;
      }
      const reply = message as unknown as ReplyMessage;
      const waiting = this.pending.get(reply.rpc);
      if (!waiting) return;
      this.pending.delete(reply.rpc);
      clearTimeout(waiting.timer);
      if (reply.ok) waiting.resolve(reply.result);
      else waiting.reject(new Error(`${label}: ${reply.error ?? 'failed'}`));
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        for (const [id, waiting] of this.pending) {
          clearTimeout(waiting.timer);
          waiting.reject(new Error(`${label} exited (code ${code}, signal ${signal}) during a call`));
          this.pending.delete(id);
        }
        resolve({ code, signal });
      });
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  call<K extends keyof C & string>(cmd: K, args: C[K][0], timeoutMs = 30_000): Promise<C[K][1]> {
    if (!this.alive || !this.child.connected) return Promise.reject(new Error(`${this.label} is not running`));
    const id = this.nextId++;
    return new Promise<C[K][1]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: "${cmd}" got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      const message: CallMessage = { rpc: id, cmd, args };
      this.child.send(message, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  on<K extends keyof E>(event: K, listener: (data: E[K]) => void): void {
    this.listeners.set(event, listener as (data: never) => void);
  }

  /** Asks nicely (so that a --cpu-prof profile gets written), then kills after `graceMs`. */
  async stop(graceMs = 5_000, stopCommand?: keyof C & string): Promise<void> {
    if (!this.alive) return;
    if (stopCommand) await this.call(stopCommand, undefined as C[typeof stopCommand][0], graceMs).catch(() => undefined);
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}

/** The child's side: answers calls with `handlers`; returns a way to send events to the parent. */
export function serve<C extends Commands, E extends Record<string, unknown> = Record<string, never>>(
  handlers: Handlers<C>,
): { emit<K extends keyof E & string>(event: K, data: E[K]): void } {
  if (!process.send) throw new Error('this program runs as a child of bench/run.ts (it needs an IPC channel)');
  // The parent is gone (killed, or it finished): nothing here should keep running.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: unknown) => {
    if (!isObject(message) || typeof message.cmd !== 'string' || typeof message.rpc !== 'number') return;
    const { rpc, cmd, args } = message as unknown as CallMessage;
    const handler = (handlers as Record<string, ((a: unknown) => unknown) | undefined>)[cmd];
    const answer = (reply: ReplyMessage): void => {
      if (process.connected) process.send!(reply);
    };
    if (!handler) return answer({ rpc, ok: false, error: `unknown command ${cmd}` });
    Promise.resolve()
      .then(() => handler(args))
      .then(
        (result) => answer({ rpc, ok: true, result }),
        (error: unknown) => answer({ rpc, ok: false, error: errorDetail(error) }),
      );
  });
  return {
    emit: (event, data) => {
      if (process.connected) process.send!({ event, data } satisfies EventMessage);
    },
  };
}

/** The soft and hard limits on open files of this process (Linux /proc, else the shell's ulimit). */
export function fileLimits(): { soft: number; hard: number } {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line?.match(/(\d+|unlimited)\s+(\d+|unlimited)/)?.slice(1) ?? []).map((v) =>
      v === 'unlimited' ? Infinity : Number(v),
    );
    if (soft !== undefined && hard !== undefined) return { soft, hard };
  } catch {
    // not Linux: ask the shell
  }
  const ask = (flag: string): number => {
    const out = spawnSync('/bin/sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim();
    return out === 'unlimited' ? Infinity : Number(out) || 1024;
  };
  return { soft: ask('-Sn'), hard: ask('-Hn') };
}

export interface SpawnOptions {
  /** Extra node flags, e.g. --expose-gc or --cpu-prof. */
  nodeFlags?: string[];
  /** File descriptors this child needs; its soft limit is raised (up to the hard limit) when below. */
  files?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a TypeScript entry point of the bench in a child process (through tsx) with an IPC channel.
 * When the child needs more file descriptors than the soft limit allows, it is started through
 * `sh -c 'ulimit -n N; exec node ...'`, which raises the limit for that child only.
 */
export function startChild<C extends Commands, E extends Record<string, unknown> = Record<string, never>>(
  entry: string,
  label: string,
  options: SpawnOptions = {},
): Rpc<C, E> {
  const execArgv = ['--import', 'tsx', ...(options.nodeFlags ?? [])];
  const env = { ...process.env, ...options.env };
  const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
  const limits = fileLimits();
  const wanted = options.files ?? 0;
  let child: ChildProcess;
  if (wanted > limits.soft && limits.soft < limits.hard) {
    const raiseTo = Math.min(wanted, limits.hard);
    child = spawn('/bin/sh', ['-c', `ulimit -n ${raiseTo} && exec "$0" "$@"`, process.execPath, ...execArgv, entry], { stdio, env });
  } else {
    child = fork(entry, [], { execArgv, stdio, env });
  }
  return new Rpc<C, E>(child, label);
}
