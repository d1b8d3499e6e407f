import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import { ParleyClient } from '../src/client/parley-client';
import { streamLogger } from '../src/server/log';
import { TCP_HEADROOM_PER_ADDRESS } from '../src/server/tcp-guard';
import { Program, WAIT_MS } from './helpers/processes';
import { eventually, next, passwordOf, startServer, tempDir, type TestServer } from './helpers/server';

/** A raw TCP connection from `localAddress` (all of 127.0.0.0/8 is this machine), with what it received and whether it is closed. */
interface Raw {
  socket: Socket;
  received: () => string;
  closed: () => boolean;
}

/** A server whose raw connections are closed before it is, when the test ends (closing waits for them). */
async function start(t: TestContext, options: Parameters<typeof startServer>[0]): Promise<TestServer & { sockets: Socket[] }> {
  const s = Object.assign(await startServer(options), { sockets: [] as Socket[] });
  t.after(async () => {
    s.sockets.forEach((socket) => socket.destroy());
    await s.close();
  });
  return s;
}

function raw(s: { port: number; sockets: Socket[] }, localAddress: string, first?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: s.port, localAddress });
    s.sockets.push(socket);
    let received = '';
    let closed = false;
    socket.setEncoding('utf8').on('data', (d: string) => (received += d));
    socket.on('close', () => (closed = true));
    socket.on('error', () => {}); // a reset is one of the ways the server may close it
    socket.once('connect', () => {
      if (first) socket.write(first);
      resolve({ socket, received: () => received, closed: () => closed });
    });
    socket.once('error', reject);
  });
}

async function rawMany(s: { port: number; sockets: Socket[] }, localAddress: string, count: number): Promise<Raw[]> {
  const all: Raw[] = [];
  for (let i = 0; i < count; i += 1) all.push(await raw(s, localAddress));
  return all;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Signs `username` in from `localAddress`. */
async function signInFrom(s: TestServer, username: string, localAddress: string): Promise<ParleyClient> {
  const socket = { localAddress, reconnection: false }; // localAddress goes on to the WebSocket, past socket.io-client's types
  const client = new ParleyClient(s.url, { requestTimeoutMs: 3000, socket });
  s.clients.push(client);
  await client.connect();
  await client.login(username, passwordOf(username));
  return client;
}

test('TCP connections from one address past its limit are closed as they are accepted; another address still signs in', async (t) => {
  const s = await start(t, { users: ['alice'], maxConnectionsPerAddress: 2 });
  const limit = 2 + TCP_HEADROOM_PER_ADDRESS;
  const held = await rawMany(s, '127.0.0.31', limit);
  const extra = await rawMany(s, '127.0.0.31', 3);
  // Long before the request headers' timeout (10 s): these never sent a byte, and were cut for their number alone.
  await eventually(() => extra.every((c) => c.closed()), 2000, 'the connections past the limit to be closed');
  assert.equal(held.filter((c) => c.closed()).length, 0, 'those within the limit stay open');

  const alice = await signInFrom(s, 'alice', '127.0.0.32');
  assert.deepEqual((await alice.whoelse()).users, []);

  held[0]!.socket.destroy();
  await eventually(
    async () => {
      const again = await raw(s, '127.0.0.31');
      await pause(100);
      return !again.closed();
    },
    3000,
    'room for one more once one has closed',
  );
});

test("a trusted proxy's connections are not capped by its own address (its clients are, by theirs)", async (t) => {
  const s = await start(t, { users: ['alice'], maxConnectionsPerAddress: 2, trustProxy: ['127.0.0.33'] });
  const fromProxy = await rawMany(s, '127.0.0.33', 2 + TCP_HEADROOM_PER_ADDRESS + 5);
  await pause(300);
  assert.equal(fromProxy.filter((c) => c.closed()).length, 0);
  await signInFrom(s, 'alice', '127.0.0.33');
});

test('a connection that does not send its request headers in time is cut, and so is one that asks for pages over keep-alive', async (t) => {
  const s = await start(t, { users: ['alice'], timings: { requestHeadersTimeoutMs: 500 } });
  const alice = await s.signIn('alice');

  const idle = await raw(s, '127.0.0.34');
  const trickle = await raw(s, '127.0.0.34', 'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n');
  const page = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
  const keepAlive = await raw(s, '127.0.0.34', page);
  const writing = setInterval(() => {
    if (!trickle.closed()) trickle.socket.write('X-Slow: 1\r\n');
    if (!keepAlive.closed()) keepAlive.socket.write(page);
  }, 100);
  t.after(() => clearInterval(writing));

  await eventually(() => idle.closed() && trickle.closed(), 3000, 'the idle and the trickling connection to be cut');
  assert.match(idle.received(), /^HTTP\/1\.1 408 /);
  await eventually(keepAlive.closed, 3000, 'the keep-alive connection to be closed');
  assert.equal(keepAlive.received().match(/^HTTP\/1\.1 /gm)?.length, 1, `one answer, then closed: ${keepAlive.received()}`);
  assert.match(keepAlive.received(), /^HTTP\/1\.1 404 [^]*connection: close/im);

  await pause(1000);
  assert.deepEqual((await alice.whoelse()).users, [], 'a WebSocket, once upgraded, has no such timeout');
});

test('past the server-wide cap connections are closed as they arrive, and logged, and the server carries on', async (t) => {
  let logged = '';
  const s = await start(t, { users: ['alice', 'bob'], maxConnections: 4, log: streamLogger((text) => (logged += text)) });
  const alice = await s.signIn('alice');
  const held = [await raw(s, '127.0.0.41'), await raw(s, '127.0.0.42'), await raw(s, '127.0.0.43')];
  const refused = [await raw(s, '127.0.0.44'), await raw(s, '127.0.0.45')];
  await eventually(() => refused.every((c) => c.closed()), 2000, 'the connections past the cap to be closed');
  assert.equal(held.filter((c) => c.closed()).length, 0);
  assert.match(logged, /refused a connection: the server holds its most open connections \{"max":4,"address":"127\.0\.0\.44"\}/);

  assert.deepEqual((await alice.whoelse()).users, [], 'a signed-in client is served as before');
  held.forEach((c) => c.socket.destroy());
  await eventually(
    async () => {
      const bob = await signInFrom(s, 'bob', '127.0.0.46').catch(() => undefined); // the server may not have seen the closes yet
      return bob !== undefined;
    },
    3000,
    'bob to sign in once there is room',
  );
});

test('parley-server keeps its connections below its limit on open files, so that it can still open what it needs', async (t) => {
  const dataDir = tempDir();
  // Through a shell, for its ulimit: the server's own limit on open files, at a size a test can fill.
  const server = spawn('/bin/sh', [
    '-c',
    `ulimit -n 200 && exec "${process.execPath}" --import tsx src/server/main.ts 0 --data "${dataDir}"`,
  ]);
  let stderr = '';
  server.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise((resolve) => server.once('close', resolve));
  const flood: Socket[] = [];
  t.after(async () => {
    flood.forEach((socket) => socket.destroy());
    server.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  });
  await eventually(() => /listening \{.*"maxConnections":(\d+)/.test(stderr), WAIT_MS, `the server to start: ${stderr}`);
  const port = Number(/"port":(\d+)/.exec(stderr)![1]);
  assert.ok(Number(/"maxConnections":(\d+)/.exec(stderr)![1]) < 200, stderr);

  // More idle connections than the limit allows, from 10 addresses, each well within its own limit.
  const target = { port, sockets: flood };
  for (let i = 0; i < 250; i += 1) await raw(target, `127.0.0.${60 + (i % 10)}`);
  await eventually(() => stderr.includes('refused a connection: the server holds its most open connections'), 3000, 'the cap');

  // The admin socket needs a file of its own in the server: a user added through it now, while the flood holds.
  const add = new Program('src/server/main.ts', ['users', 'add', 'carol', '--data', dataDir]);
  add.write('carol-pw');
  assert.equal(await add.exitCode(), 0, add.stderr);
  assert.match(add.stdout, /Added carol\./);
});

test('the server stops while connections that never sent their request are open, and still tells its clients', async (t) => {
  const s = await start(t, { users: ['alice'] });
  const alice = await s.signIn('alice');
  const told = next(alice, 'signedOut');
  const idle = await raw(s, '127.0.0.51');
  const half = await raw(s, '127.0.0.51', 'GET / HTTP/1.1\r\nHost: x\r\n');
  let stopped = false;
  void s.stop().then(() => (stopped = true));
  await eventually(() => stopped, 3000, 'the server to stop (Node no longer times requests out once it closes)');
  assert.ok(idle.closed() && half.closed());
  assert.equal((await told)[0].reason, 'shutdown');
});
