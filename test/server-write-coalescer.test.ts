import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket as TcpSocket } from 'node:net';
import { after, afterEach, before, describe, test } from 'node:test';
import { Server, type Socket } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { WriteCoalescer } from '../src/server/write-coalescer';

/**
 * A bare Socket.IO server with the coalescer on or off, so that the only difference measured is the
 * coalescer. Writes are counted where they reach the kernel: the TCP socket's _write/_writev (one
 * system call each).
 */
describe('write coalescing', { timeout: 30_000 }, () => {
  let http: HttpServer;
  let io: Server;
  let url: string;
  let coalescer: WriteCoalescer | undefined;
  const clients: ClientSocket[] = [];

  before(async () => {
    http = createServer();
    io = new Server(http);
    io.on('connection', (socket) => coalescer?.attach(socket.conn));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => io.close(() => resolve())));
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  /** A connected client and its socket on the server, with a count of the server's writes to it. */
  async function pair(): Promise<{ client: ClientSocket; socket: Socket; writes: () => number }> {
    const connected = new Promise<Socket>((resolve) => io.once('connection', resolve));
    const client = connect(url, { transports: ['websocket'], forceNew: true });
    clients.push(client);
    const socket = await connected;
    await new Promise<void>((resolve) => (client.connected ? resolve() : client.once('connect', () => resolve())));
    const tcp = socket.conn.request.socket as TcpSocket & { _write: unknown; _writev: unknown };
    let count = 0;
    for (const method of ['_write', '_writev'] as const) {
      const original = tcp[method] as (...args: unknown[]) => unknown;
      tcp[method] = function (this: unknown, ...args: unknown[]) {
        count++;
        return original.apply(this, args);
      };
    }
    return { client, socket, writes: () => count };
  }

  function receive(client: ClientSocket, n: number): Promise<number[]> {
    const got: number[] = [];
    return new Promise((resolve) =>
      client.on('n', (i: number) => {
        got.push(i);
        if (got.length === n) resolve(got);
      }),
    );
  }

  test('packets sent to a client in one turn leave in one write, in order', async () => {
    coalescer = new WriteCoalescer();
    const { client, socket, writes } = await pair();
    const received = receive(client, 5);
    for (let i = 0; i < 5; i++) socket.emit('n', i);
    assert.equal(writes(), 0, 'nothing is written during the turn');
    assert.deepEqual(await received, [0, 1, 2, 3, 4]);
    assert.equal(writes(), 1);

    // The next turn's packets are a write of their own.
    client.off('n');
    const more = receive(client, 2);
    for (let i = 5; i < 7; i++) socket.emit('n', i);
    assert.deepEqual(await more, [5, 6]);
    assert.equal(writes(), 2);
  });

  test('without it, engine.io writes each packet by itself (what the coalescer saves)', async () => {
    coalescer = undefined;
    const { client, socket, writes } = await pair();
    const received = receive(client, 5);
    for (let i = 0; i < 5; i++) socket.emit('n', i);
    assert.deepEqual(await received, [0, 1, 2, 3, 4]);
    assert.ok(writes() >= 2, `expected a write per packet after the first, got ${writes()}`);
  });

  test('a packet sent just before the server disconnects the client still arrives', async () => {
    coalescer = new WriteCoalescer();
    const { client, socket } = await pair();
    const last = new Promise((resolve) => client.once('bye', resolve));
    const gone = new Promise((resolve) => client.once('disconnect', resolve));
    socket.emit('bye', 'see you');
    socket.disconnect(true);
    assert.equal(await last, 'see you');
    assert.equal(await gone, 'io server disconnect');
  });

  test('flushNow sends what is held at once, before a server close that drops unsent packets', async () => {
    const local = createServer();
    const localIo = new Server(local);
    const localCoalescer = new WriteCoalescer();
    localIo.on('connection', (socket) => localCoalescer.attach(socket.conn));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
    const connected = new Promise<Socket>((resolve) => localIo.once('connection', resolve));
    const client = connect(`http://127.0.0.1:${(local.address() as AddressInfo).port}`, { transports: ['websocket'], forceNew: true });
    clients.push(client);
    const socket = await connected;
    const last = new Promise((resolve) => {
      client.once('bye', resolve);
      client.once('disconnect', () => resolve('disconnected first'));
    });
    socket.emit('bye', 'shutting down');
    localCoalescer.flushNow();
    await new Promise<void>((resolve) => localIo.close(() => resolve()));
    assert.equal(await last, 'shutting down');
  });
});
