import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { io } from 'socket.io-client';
import { ParleyClient } from '../src/client/parley-client';
import { PROTOCOL_VERSION } from '../src/protocol';
import { Program } from './helpers/processes';
import { passwordOf, startServer, tempDir } from './helpers/server';

type Transport = 'websocket' | 'polling';

/** One Engine.IO handshake by hand, as a browser would send it: the status and body of the answer. */
function handshake(
  port: number,
  transport: Transport,
  origin?: string,
  more: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = origin === undefined ? { ...more } : { ...more, origin };
  if (transport === 'websocket') {
    Object.assign(headers, {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': randomBytes(16).toString('base64'),
    });
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/socket.io/?EIO=4&transport=${transport}`, headers });
    req.once('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

/** A real socket.io-client connection that names `origin`: resolves with "connected" or the connect error's message. */
function dial(url: string, transport: Transport, origin?: string): Promise<string> {
  const socket = io(url, {
    forceNew: true,
    reconnection: false,
    transports: [transport],
    extraHeaders: origin === undefined ? {} : { origin },
    auth: { protocol: PROTOCOL_VERSION },
  });
  return new Promise<string>((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (err) => resolve(err.message));
  }).finally(() => socket.disconnect());
}

const refusal = (origin: string): string =>
  `Refused a connection from the web page "${origin}": this message center accepts web pages only from origins allowed with --allow-origin.`;

describe('handshakes from web pages (an Origin header)', () => {
  test('are refused before a connection exists; clients without one connect', async () => {
    const t = await startServer({ users: ['alice'] });
    try {
      const evil = 'https://evil.example';
      assert.deepEqual(await handshake(t.port, 'websocket', evil), { status: 400, body: refusal(evil) });
      assert.equal(await dial(t.url, 'websocket', evil), 'websocket error');
      assert.equal(t.server.io.engine.clientsCount, 0, 'no Engine.IO connection was opened for them');

      // The same request without an Origin is what Node clients (the terminal, the extension host) send.
      assert.equal((await handshake(t.port, 'websocket')).status, 101);
      const client = new ParleyClient(t.url, { requestTimeoutMs: 3000 });
      try {
        await client.connect();
        assert.equal((await client.login('alice', passwordOf('alice'))).username, 'alice');
      } finally {
        client.close();
      }
    } finally {
      await t.close();
    }
  });

  test('an allowed origin connects; others are still refused', async () => {
    const t = await startServer({ users: ['alice'], allowedOrigins: ['https://chat.example.org/'] });
    try {
      assert.equal(await dial(t.url, 'websocket', 'https://chat.example.org'), 'connected');
      assert.notEqual(await dial(t.url, 'websocket', 'https://chat.example.org.evil.example'), 'connected');
      assert.notEqual(await dial(t.url, 'websocket', 'null'), 'connected', 'a sandboxed page');
    } finally {
      await t.close();
    }
  });

  test("polling is not served: a page's no-cors GET, which has no Origin, opens nothing, while WebSocket clients sign in", async () => {
    const t = await startServer({ users: ['alice'], maxConnectionsPerAddress: 4 });
    try {
      const noCors = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' };
      for (let i = 0; i < 6; i += 1) {
        assert.deepEqual(await handshake(t.port, 'polling', undefined, noCors), {
          status: 400,
          body: JSON.stringify({ code: 0, message: 'Transport unknown' }),
        });
      }
      assert.equal(t.server.io.engine.clientsCount, 0, 'no Engine.IO connection holds a place of the address');
      assert.equal(await dial(t.url, 'polling'), 'xhr poll error');

      const alice = await t.signIn('alice');
      assert.deepEqual((await alice.whoelse()).users, []);
    } finally {
      await t.close();
    }
  });

  test('parley-server --allow-origin: repeatable, and anything that is not an origin is a usage error', async () => {
    const dataDir = tempDir();
    const bad = new Program('src/server/main.ts', ['0', '--data', dataDir, '--allow-origin', 'chat.example.org']);
    assert.equal((await bad.exited).code, 2);
    assert.match(bad.stderr, /--allow-origin takes a web origin such as https:\/\/chat\.example\.org, not "chat\.example\.org"/);

    const server = new Program('src/server/main.ts', [
      '0',
      '--data',
      dataDir,
      '--allow-origin',
      'https://one.example',
      '--allow-origin',
      'http://localhost:5173',
    ]);
    try {
      const url = (await server.waitFor(/http:\/\/127\.0\.0\.1:\d+/))[0];
      assert.equal(await dial(url, 'websocket', 'https://one.example'), 'connected');
      assert.equal(await dial(url, 'websocket', 'http://localhost:5173'), 'connected');
      assert.equal(await dial(url, 'websocket', 'https://evil.example'), 'websocket error');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
