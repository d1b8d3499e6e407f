// The store worker's entry (dist/sqlite-worker.js): owns the SQLite database so that its WebAssembly,
// its writes and every fsync run off the server's event loop. See ./worker-store.ts for the other side.
import { parentPort, workerData } from 'node:worker_threads';
import { openClaimedSqliteStore, type SqliteStore } from './sqlite-store';
import type { CommitOutcome } from './store';
import type { CallResult, FromWorker, StoreCall, ToWorker, WorkerInit } from './worker-protocol';
import { errorMessage } from '../../protocol/errors';

const port = parentPort;
if (!port) throw new Error('sqlite-worker.ts runs as a worker thread (see worker-store.ts)');
const post = (message: FromWorker): void => port.postMessage(message);

const init = workerData as WorkerInit;
let store: SqliteStore;
try {
  store = openClaimedSqliteStore(init.dir, init.options);
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'failed', message: errorMessage(error) });
  port.close();
  throw error;
}

// A commit settles its whole batch at once; the results go out together as soon as they have all
// settled (at the end of that microtask queue). Waiting for the next turn instead could mean waiting
// for the next commit: the calls that arrive first can fill a batch of their own.
// Each commit's outcome goes with the results it settled, for the main thread's readiness and metrics.
let results: CallResult[] = [];
let commits: CommitOutcome[] = [];
const sendResults = (): void => {
  post({ type: 'results', results, ...(commits.length > 0 && { commits }) });
  results = [];
  commits = [];
};
const settle = (result: CallResult): void => {
  if (results.length === 0 && commits.length === 0) queueMicrotask(sendResults);
  results.push(result);
};
store.onCommit((commit) => {
  if (results.length === 0 && commits.length === 0) queueMicrotask(sendResults);
  commits.push(commit);
});

port.on('message', (message: ToWorker) => {
  if (message.type === 'close') {
    const id = message.id;
    store.close().then(
      () => settle({ id, ok: true, value: undefined }),
      (error: unknown) => settle({ id, ok: false, message: errorMessage(error) }),
    );
    return;
  }
  // The calls go to the store in the order they were made, which is what keeps reads after writes.
  for (const call of message.calls) run(call);
});

function run({ id, method, args }: StoreCall): void {
  let pending: Promise<unknown>;
  try {
    pending = (store[method] as (...a: unknown[]) => Promise<unknown>)(...args);
  } catch (error) {
    pending = Promise.reject(error);
  }
  pending.then(
    (value) => settle({ id, ok: true, value }),
    (error: unknown) => settle({ id, ok: false, message: errorMessage(error) }),
  );
}
