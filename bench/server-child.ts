/**
 * One server under test in a process of its own (started by bench/run.ts with --expose-gc).
 * Only the chosen server's modules are loaded, so that its memory is its own.
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';
import { performance as perf } from 'node:perf_hooks';
import { serve } from './ipc';
import { cpuSample, userName, type ServerCommands, type ServerSample } from './protocol';
import type { RunningServer } from './servers/running';

let running: RunningServer | undefined;
let profiler: Session | undefined;

function post<T = unknown>(session: Session, method: string, params: object = {}): Promise<T> {
  return new Promise((resolve, reject) =>
    session.post(method, params, (err: Error | null, result?: object) => (err ? reject(err) : resolve(result as T))),
  );
}
serve<ServerCommands>({
  start: async ({ kind, dataDir, users = 0, extraUsers = [], port = 0, shipped = false, postgres }) => {
    if (running) throw new Error('already started');
    let seedMs = 0;
    if (kind === 'parley') {
      if (!dataDir) throw new Error('parley needs a dataDir');
      const { seedClusterUsers, seedUsers, startParley } = await import('./servers/parley');
      const t0 = performance.now();
      const names = [...Array.from({ length: users }, (_, i) => userName(i)), ...extraUsers];
      if (names.length) await (postgres === undefined ? seedUsers(dataDir, names) : seedClusterUsers(postgres, names));
      seedMs = performance.now() - t0;
      running = await startParley(dataDir, { port, shipped, ...(postgres !== undefined && { postgres }) });
    } else if (kind === 'durable') {
      if (!dataDir) throw new Error('the durable relay needs a dataDir');
      const { startDurableRelay } = await import('./servers/durable-relay');
      running = await startDurableRelay(dataDir);
    } else if (kind === 'baseline') {
      const { startBaseline } = await import('./servers/baseline');
      running = await startBaseline(port);
    } else {
      const { startWsFloor } = await import('./servers/ws-floor');
      running = await startWsFloor();
    }
    return { port: running.port, seedMs, pid: process.pid };
  },

  memory: async () => {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc) {
      // Twice, with a turn of the event loop between: weak callbacks and finalizers run in between.
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    const { heapUsed, heapTotal, rss, external, arrayBuffers } = process.memoryUsage();
    return { heapUsed, heapTotal, rss, external, arrayBuffers, gc: gc !== undefined };
  },

  sample: (): ServerSample => {
    const { idle, active } = perf.eventLoopUtilization();
    const storeElu = running?.storeUtilization?.();
    return { cpu: cpuSample(), elu: { idle, active }, ...(storeElu && { storeElu }) };
  },

  profileStart: async () => {
    if (profiler) throw new Error('already profiling');
    profiler = new Session();
    profiler.connect();
    await post(profiler, 'Profiler.enable');
    await post(profiler, 'Profiler.start');
  },

  profileStop: async ({ file }) => {
    const session = profiler;
    if (!session) throw new Error('not profiling');
    profiler = undefined;
    const { profile } = await post<{ profile: object }>(session, 'Profiler.stop');
    session.disconnect();
    fs.writeFileSync(file, JSON.stringify(profile));
  },

  peakRss: () => process.resourceUsage().maxRSS * 1024,

  // No graceful close: nothing here needs flushing (the data directory is thrown away), and the bench
  // measures the servers, not their shutdown. Exiting also writes any --cpu-prof profile.
  stop: () => {
    running = undefined;
    setTimeout(() => process.exit(0), 20);
  },
});
