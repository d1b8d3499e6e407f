import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION, type Reply } from '../src/protocol';
import { RequestQueue } from '../src/server/request-queue';
import { startServer } from './helpers/server';

/** A request that finishes when the test says so, and records when it started and finished. */
interface Step {
  name: string;
  finish(): void;
  finished: Promise<void>;
}

function recorder(): { log: string[]; queue: RequestQueue<Step>; step(name: string): Step } {
  const log: string[] = [];
  const queue = new RequestQueue<Step>(async (step) => {
    log.push(`start ${step.name}`);
    await step.finished;
    log.push(`end ${step.name}`);
  });
  const step = (name: string): Step => {
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    return { name, finish, finished };
  };
  return { log, queue, step };
}

/** Lets every promise callback that is ready run (a macrotask comes after all microtasks). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('a connection’s request queue', () => {
  test('pipelined requests start at once, in order, without waiting for the one before', async () => {
    const { log, queue, step } = recorder();
    const a = step('a');
    const b = step('b');
    queue.push(true, a);
    assert.deepEqual(log, ['start a'], 'with nothing waiting it starts in the same turn');
    queue.push(true, b);
    assert.deepEqual(log, ['start a', 'start b']);
    b.finish();
    a.finish();
    await settle();
    assert.deepEqual(log, ['start a', 'start b', 'end b', 'end a']);
  });

  test('any other request waits for those before it to finish, and holds back those after it', async () => {
    const { log, queue, step } = recorder();
    const [a, login, b, c] = ['a', 'login', 'b', 'c'].map(step) as [Step, Step, Step, Step];
    queue.push(true, a);
    queue.push(false, login);
    queue.push(true, b);
    await settle();
    assert.deepEqual(log, ['start a'], 'login waits for a; b waits for login');
    a.finish();
    await settle();
    assert.deepEqual(log, ['start a', 'end a', 'start login']);
    queue.push(true, c);
    await settle();
    assert.deepEqual(log, ['start a', 'end a', 'start login'], 'c came after login: it waits too');
    login.finish();
    await settle();
    assert.deepEqual(log, ['start a', 'end a', 'start login', 'end login', 'start b', 'start c']);
    b.finish();
    c.finish();
    await settle();
    const d = step('d');
    queue.push(true, d);
    assert.equal(log.at(-1), 'start d', 'once all before it have started, a pipelined request starts at once again');
    d.finish();
    await settle();
  });

  test('a request that rejects does not stall the ones after it', async () => {
    const log: string[] = [];
    const queue = new RequestQueue<string>(async (name) => {
      log.push(name);
      if (name.startsWith('bad')) throw new Error(name);
    });
    queue.push(true, 'bad pipelined');
    queue.push(false, 'bad other');
    queue.push(false, 'after');
    queue.push(true, 'last');
    await settle();
    assert.deepEqual(log, ['bad pipelined', 'bad other', 'after', 'last']);
  });
});

describe('requests sent without waiting for the sign-in', () => {
  test('a burst of login, message and received is handled in order: the later ones see the sign-in', async (t) => {
    const server = await startServer({ users: ['alice', 'bob'] });
    t.after(() => server.close());
    const socket: Socket = io(server.url, { auth: { protocol: PROTOCOL_VERSION }, transports: ['websocket'], reconnection: false });
    t.after(() => socket.close());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    const ask = (event: string, payload: object): Promise<Reply> => socket.timeout(2000).emitWithAck(event, payload) as Promise<Reply>;
    // All three leave in one burst, before the server has checked the password.
    const [login, message, received] = await Promise.all([
      ask('login', { username: 'alice', password: 'alice-pw' }),
      ask('message', { to: 'bob', body: 'sent before the sign-in was answered' }),
      ask('received', { ids: [1] }),
    ]);
    assert.equal(login.ok, true, JSON.stringify(login));
    assert.equal(message.ok, true, JSON.stringify(message));
    assert.deepEqual(received, { ok: true, count: 0 });
    const bob = await server.signIn('bob');
    t.after(() => bob.close());
    const history = await bob.history({ with: 'alice' });
    assert.deepEqual(
      history.messages.map((m) => m.body),
      ['sent before the sign-in was answered'],
    );
  });
});
