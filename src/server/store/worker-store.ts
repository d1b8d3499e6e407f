import { existsSync } from 'node:fs';
import path from 'node:path';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { SqliteStoreOptions } from './sqlite-store';
import { CommitWatch } from './commit-watch';
import { claimDataDir } from './data-dir';
import type { CommitOutcome, Store, StoreHealth } from './store';
import type { FromWorker, StoreCall, StoreMethod, ToWorker, WorkerInit } from './worker-protocol';

/**
 * The embedded store as the server runs it: SQLite in a worker thread (./sqlite-worker.ts), so that
 * its commits and fsyncs never stall the sockets. Same contract as SqliteStore: a write resolves
 * once it is durable, and a read sees every write made before it.
 */
export interface WorkerStoreEvents {
  /** The worker thread stopped (a crash, out of memory...) and a new one took over; the calls it held failed. */
  restarted?(error: Error): void;
  /** The worker stopped too often to go on: every call fails from now on. */
  gaveUp?(error: Error): void;
}

export async function openWorkerStore(dataDir: string, options: SqliteStoreOptions = {}, events: WorkerStoreEvents = {}): Promise<Store> {
  const { dir, release } = claimDataDir(dataDir);
  try {
    const init: WorkerInit = { dir, options };
    const worker = startWorker(init);
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number): void => reject(new Error(`the store worker exited (code ${code}) while opening ${dir}`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (message: FromWorker) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (message.type === 'ready') resolve();
        else reject(new Error(message.type === 'failed' ? message.message : 'the store worker did not start'));
      });
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return new WorkerStore(worker, init, release, events);
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * The worker's file: beside this module's bundle in dist/, or, when running from source under tsx,
 * the TypeScript entry loaded through tsx's require hook.
 */
function startWorker(init: WorkerInit): Worker {
  const bundled = path.join(__dirname, 'sqlite-worker.js');
  if (existsSync(bundled)) return new Worker(bundled, { workerData: init });
  const source = path.join(__dirname, 'sqlite-worker.ts');
  return new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true, workerData: init });
}

/** How busy the store's thread has been (blocked in SQLite's writes and fsyncs counts as busy); undefined for other stores. For the bench. */
export function storeThreadUtilization(store: Store): EventLoopUtilization | undefined {
  return store instanceof WorkerStore ? store.utilization() : undefined;
}

/**
 * Ends the store's worker thread as a crash would (for tests and drills: the store starts a new one).
 * Does nothing to other stores.
 */
export async function crashStoreWorker(store: Store): Promise<void> {
  if (store instanceof WorkerStore) await store.crashWorker();
}

/** Calls posted to the worker together, at most; more in one turn go in several messages. */
const OUTBOX_MAX = 100;
/** A worker that stops more often than this within RESTART_WINDOW_MS is not started again. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

class WorkerStore implements Store {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  /** Calls not posted yet: posted together at the end of the turn, or once OUTBOX_MAX have gathered. */
  private outbox: StoreCall[] = [];
  private restarts: number[] = [];
  private broken: Error | undefined;
  private closing: Promise<void> | undefined;
  private readonly watch = new CommitWatch();

  constructor(
    private worker: Worker,
    private readonly init: WorkerInit,
    private readonly release: () => void,
    private readonly events: WorkerStoreEvents,
  ) {
    this.attach(worker);
  }

  getUser = this.method('getUser');
  listUsers = this.method('listUsers');
  putUser = this.method('putUser');
  removeUser = this.method('removeUser');
  setLastSeen = this.method('setLastSeen');
  saveMessage = this.method('saveMessage');
  findSent = this.method('findSent');
  pendingFor = this.method('pendingFor');
  markDelivered = this.method('markDelivered');
  history = this.method('history');
  listChannels = this.method('listChannels');
  createChannel = this.method('createChannel');
  addMember = this.method('addMember');
  removeMember = this.method('removeMember');
  setTopic = this.method('setTopic');
  renameChannel = this.method('renameChannel');
  deleteChannel = this.method('deleteChannel');
  post = this.method('post');
  channelHistory = this.method('channelHistory');
  channelStates = this.method('channelStates');
  readChannel = this.method('readChannel');
  readDirect = this.method('readDirect');
  directStates = this.method('directStates');
  listBlocks = this.method('listBlocks');
  addBlock = this.method('addBlock');
  removeBlock = this.method('removeBlock');
  putSessionToken = this.method('putSessionToken');
  getSessionToken = this.method('getSessionToken');
  renewSessionToken = this.method('renewSessionToken');
  deleteSessionToken = this.method('deleteSessionToken');
  deleteSessionTokensOf = this.method('deleteSessionTokensOf');
  expireMessages = this.method('expireMessages');
  postsBy = this.method('postsBy');
  backupTo = this.method('backupTo');

  private get dir(): string {
    return this.init.dir;
  }

  health(): StoreHealth {
    // Said on the server's public port (/readyz): no path in it.
    return this.watch.health(this.closing ? 'the store is closed' : this.broken && 'the store thread keeps stopping');
  }

  onCommit(listener: (commit: CommitOutcome) => void): void {
    this.watch.listen(listener);
  }

  private attach(worker: Worker): void {
    worker.on('message', (message: FromWorker) => {
      if (worker !== this.worker) return;
      // A new worker's calls wait in its port until it has opened the database and listens: 'ready' needs no answer.
      if (message.type === 'ready') return;
      if (message.type === 'failed') {
        this.lost(worker, new Error(`the store worker could not open ${this.dir} again: ${message.message}`));
      } else {
        for (const commit of message.commits ?? []) this.watch.committed(commit);
        for (const result of message.results) {
          const waiting = this.waiting.get(result.id);
          this.waiting.delete(result.id);
          if (result.ok) waiting?.resolve(result.value);
          else waiting?.reject(new Error(result.message));
        }
        if (this.waiting.size === 0) worker.unref();
      }
    });
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`the store worker for ${this.dir} stopped (exit code ${code})`)));
    // The worker keeps the process alive only while a call is on its way: an acknowledged write is never cut short.
    if (this.waiting.size === 0) worker.unref();
  }

  utilization(): EventLoopUtilization {
    return this.worker.performance.eventLoopUtilization();
  }

  async crashWorker(): Promise<void> {
    await this.worker.terminate();
  }

  close(): Promise<void> {
    return (this.closing ??= (async () => {
      try {
        if (!this.broken) {
          this.postOutbox();
          await this.expect((id) => this.worker.postMessage({ type: 'close', id } satisfies ToWorker));
        }
      } finally {
        this.fail(new Error(`the store in ${this.dir} is closed`));
        await this.worker.terminate();
        this.release();
      }
    })());
  }

  private method<M extends StoreMethod>(method: M): Store[M] {
    const call = (...args: unknown[]): Promise<unknown> => {
      if (this.broken) return Promise.reject(this.broken);
      if (this.closing) return Promise.reject(new Error(`the store in ${this.dir} is closed`));
      return this.expect((id) => {
        if (this.outbox.length === 0) setImmediate(() => this.postOutbox());
        this.outbox.push({ id, method, args } as StoreCall);
        // Under load one turn reads a thousand sockets; the worker need not wait for its end to start.
        if (this.outbox.length >= OUTBOX_MAX) this.postOutbox();
      });
    };
    return call as Store[M];
  }

  private expect(send: (id: number) => void): Promise<unknown> {
    const id = this.nextId++;
    const result = new Promise<unknown>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    if (this.waiting.size === 1) this.worker.ref();
    send(id);
    return result;
  }

  private postOutbox(): void {
    if (this.outbox.length === 0 || this.broken) return;
    this.worker.postMessage({ type: 'calls', calls: this.outbox } satisfies ToWorker);
    this.outbox = [];
  }

  /**
   * The worker stopped. The calls it held fail (a write among them may or may not have committed; a
   * client's retry carries the same clientMsgId, so it is not stored twice); calls not posted yet wait
   * for a new worker, which opens the database again (SQLite rolls back what was not committed).
   */
  private lost(worker: Worker, error: Error): void {
    if (worker !== this.worker || this.broken) return;
    if (this.closing) return this.fail(error);
    const queued = new Set(this.outbox.map((call) => call.id));
    for (const [id, waiting] of this.waiting) {
      if (queued.has(id)) continue;
      this.waiting.delete(id);
      waiting.reject(new Error(`the store worker stopped before answering: ${error.message}`));
    }
    const now = Date.now();
    this.restarts = [...this.restarts.filter((at) => now - at < RESTART_WINDOW_MS), now];
    if (this.restarts.length > MAX_RESTARTS) {
      this.fail(new Error(`the store worker for ${this.dir} stopped ${this.restarts.length} times within a minute: ${error.message}`));
      this.events.gaveUp?.(this.broken ?? error);
      return;
    }
    this.worker = startWorker(this.init);
    this.attach(this.worker);
    if (this.waiting.size > 0) this.worker.ref();
    this.events.restarted?.(error);
  }

  /** The store cannot go on: every call still waiting fails, and so does everything after. */
  private fail(error: Error): void {
    this.broken ??= error;
    for (const waiting of this.waiting.values()) waiting.reject(this.broken);
    this.waiting.clear();
    this.outbox = [];
  }
}
