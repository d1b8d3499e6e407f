// What one `received` request costs the server, against a bare Socket.IO server given the same event
// (docs/performance.md, "Clients held"). Each server runs in a process of its own; this process holds the
// clients. Linux only: the event loop's share is read from /proc.
// Usage: node --import tsx bench/measure-acknowledgements.ts [clients, default 4000] [rounds, default 20] [profile dir]
// With a directory, each server's event loop is CPU-profiled during the rounds only, into DIR/<kind>.cpuprofile
// (summarise with: node --import tsx bench/profile-summary.ts FILE).
// /proc counts the event loop's CPU in 10 ms ticks: keep clients × rounds in the tens of thousands.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION } from '../src/protocol';
import { BENCH_PASSWORD, cpuSample, userName } from './protocol';
import { startBaseline } from './servers/baseline';
import { startDurableRelay } from './servers/durable-relay';
import { seedUsers, startParley } from './servers/parley';

type Kind = 'parley' | 'durable' | 'baseline';
/** CPU milliseconds: the whole process, and its main thread (the event loop). */
interface Cpu {
  total: number;
  main: number;
}

const ROUND_GAP_MS = 400;
const CONNECT_CHUNK = 200;

function cpuNow(): Cpu {
  // The main thread's task has the process's id. Fields 14 and 15 of its stat: user and system time, in clock
  // ticks (100 per second here).
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { total: cpuSample().cpuMicros / 1000, main: (Number(fields[11]) + Number(fields[12])) * 10 };
}

/** The server side: started by the parent with the kind and the client count, answers 'cpu' with cpuNow(). */
async function serve(kind: Kind, clients: number): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-acks-'));
  if (kind === 'parley') await seedUsers(dataDir, names(clients));
  const server =
    kind === 'parley' ? await startParley(dataDir) : kind === 'durable' ? await startDurableRelay(dataDir) : await startBaseline();
  const profiler = new Session();
  process.on('message', (message: string) => {
    if (message === 'cpu') process.send!(cpuNow());
    if (message === 'profile') {
      profiler.connect();
      profiler.post('Profiler.enable', () => profiler.post('Profiler.start', () => process.send!('profiling')));
    }
    if (message.startsWith('profile:')) {
      profiler.post('Profiler.stop', (err, result) => {
        if (!err) writeFileSync(message.slice('profile:'.length), JSON.stringify(result.profile));
        profiler.disconnect();
        process.send!(err ? String(err) : 'profiled');
      });
    }
    if (message !== 'exit') return;
    void server.close().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  process.send!({ port: server.port });
}

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => userName(i));

function reply<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve) => child.once('message', (message) => resolve(message as T)));
}

async function measure(kind: Kind, clients: number, rounds: number, profileDir: string | undefined): Promise<void> {
  const child = fork(process.argv[1]!, ['--serve', kind, String(clients)], { execArgv: process.execArgv });
  const { port } = await reply<{ port: number }>(child);
  const ask = <T>(message: string): Promise<T> => {
    child.send(message);
    return reply<T>(child);
  };
  const cpu = (): Promise<Cpu> => ask<Cpu>('cpu');
  const sockets: Socket[] = [];
  try {
    const all = names(clients);
    for (let i = 0; i < all.length; i += CONNECT_CHUNK) {
      const chunk = all.slice(i, i + CONNECT_CHUNK).map(
        (username) =>
          new Promise<void>((resolve, reject) => {
            const socket = io(`http://127.0.0.1:${port}`, {
              forceNew: true,
              transports: ['websocket'],
              auth: { protocol: PROTOCOL_VERSION },
            });
            sockets.push(socket);
            socket.on('connect_error', reject);
            socket.on('connect', () =>
              socket.emit('login', { username, password: BENCH_PASSWORD }, (r: { ok: boolean }) =>
                r.ok ? resolve() : reject(new Error(`${username} could not sign in`)),
              ),
            );
          }),
      );
      await Promise.all(chunk);
    }
    await new Promise((resolve) => setTimeout(resolve, 3000)); // sign-ins and presence settle
    const idleStart = await cpu();
    await new Promise((resolve) => setTimeout(resolve, rounds * ROUND_GAP_MS));
    const idleEnd = await cpu();
    if (profileDir) await ask('profile');
    const start = await cpu();
    for (let round = 1; round <= rounds; round++) {
      // As ParleyClient sends it: no ack callback, so the server answers only a failure.
      for (const socket of sockets) socket.emit('received', { ids: [round] });
      await new Promise((resolve) => setTimeout(resolve, ROUND_GAP_MS));
    }
    const end = await cpu();
    const profiled = profileDir && (await ask<string>(`profile:${path.join(profileDir, `${kind}.cpuprofile`)}`));
    if (profiled && profiled !== 'profiled') console.error(`${kind}: no profile: ${profiled}`);
    const requests = clients * rounds;
    const per = (key: keyof Cpu): string => (((end[key] - start[key] - (idleEnd[key] - idleStart[key])) * 1000) / requests).toFixed(1);
    console.log(`${kind}: ${requests} received requests: ${per('total')} µs of server CPU each, ${per('main')} µs on its event loop`);
  } finally {
    for (const socket of sockets) socket.disconnect();
    child.send('exit');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

async function main([first, second, third]: string[]): Promise<void> {
  if (first === '--serve') return serve(second as Kind, Number(third));
  const clients = Number(first ?? 4000);
  const rounds = Number(second ?? 20);
  if (third) mkdirSync(third, { recursive: true });
  for (const kind of ['baseline', 'durable', 'parley'] as const) await measure(kind, clients, rounds, third);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
