import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ParleyClient } from '../src/client/parley-client';
import { ParleyRequestError } from '../src/client/request-error';
import { makePki } from './helpers/certificates';
import { Program } from './helpers/processes';
import { TEST_SCRYPT, eventually, next, passwordOf, startServer, tempDir } from './helpers/server';

async function get(url: string, method = 'GET'): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method });
  return { status: res.status, body: await res.text() };
}

describe('health probes on the server port', () => {
  test('/healthz answers, /readyz says ready, and every other path gets what it got before', async (t) => {
    const srv = await startServer({ users: ['alice', 'bob'] });
    t.after(() => srv.close());
    assert.deepEqual(await get(`${srv.url}/healthz`), { status: 200, body: 'ok\n' });
    assert.deepEqual(await get(`${srv.url}/readyz`), { status: 200, body: 'ready\n' });
    assert.deepEqual(await get(`${srv.url}/readyz?verbose`), { status: 200, body: 'ready\n' });
    assert.deepEqual(await get(`${srv.url}/healthz`, 'HEAD'), { status: 200, body: '' });

    const notFound = { status: 404, body: 'Parley message center: connect with a Parley client.\n' };
    for (const path of ['/', '/healthz/more', '/health', '/metrics', '/readyz.html'])
      assert.deepEqual(await get(`${srv.url}${path}`), notFound, path);
    assert.deepEqual(await get(`${srv.url}/healthz`, 'POST'), notFound);
    // Socket.IO's path is still Socket.IO's, which serves WebSocket only.
    const polling = await get(`${srv.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(polling.status, 400);
    assert.match(polling.body, /Transport unknown/);

    // Clients chat as before.
    const alice = await srv.signIn('alice');
    const bob = await srv.signIn('bob');
    const arrival = next(bob, 'message');
    await alice.message('bob', 'still here');
    assert.equal((await arrival)[0].body, 'still here');
  });

  test('probes pass the connection guards and are no Socket.IO connections', async (t) => {
    const srv = await startServer({ users: ['alice'], maxConnectionsPerAddress: 1 });
    t.after(() => srv.close());
    // More probes than the address may hold connections: each closes once answered.
    for (let i = 0; i < 40; i++) assert.equal((await get(`${srv.url}/${i % 2 ? 'healthz' : 'readyz'}`)).status, 200);
    assert.equal(srv.server.io.engine.clientsCount, 0);
    const alice = await srv.signIn('alice');
    assert.equal(alice.state, 'signed-in');
    assert.equal(srv.server.io.engine.clientsCount, 1);
    assert.equal((await get(`${srv.url}/healthz`)).status, 200);
  });

  test('over TLS, on the https:// address', async (t) => {
    const dir = tempDir('parley-health-tls-');
    const pki = makePki(dir);
    const pair = pki.issue('server');
    const srv = await startServer({ tls: pair });
    t.after(() => srv.close());
    for (const [path, expected] of [
      ['/healthz', { status: 200, body: 'ok\n' }],
      ['/readyz', { status: 200, body: 'ready\n' }],
    ] as const) {
      const got = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: srv.port, path, ca: pki.ca }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject).end();
      });
      assert.deepEqual(got, expected, path);
    }
  });

  test('/readyz says 503 with the reason once the store is closed under the server; /healthz still answers', async (t) => {
    const srv = await startServer({ users: ['alice'] });
    t.after(() => srv.close());
    assert.equal((await get(`${srv.url}/readyz`)).status, 200);
    await srv.server.store.close();
    assert.deepEqual(await get(`${srv.url}/readyz`), { status: 503, body: 'not ready: the store is closed\n' });
    assert.deepEqual(await get(`${srv.url}/healthz`), { status: 200, body: 'ok\n' });
  });

  test('/readyz says 503 while the disk refuses the store’s writes, and ready again after a write goes through', async (t) => {
    if (spawnSync('prlimit', ['--version']).error) return t.skip('needs prlimit (util-linux) to limit the server’s file size');
    const dir = tempDir('parley-health-disk-');
    const credentials = join(dir, 'users.txt');
    writeFileSync(credentials, 'alice alice-pw\nbob bob-pw\n');
    const server = new Program('test/fixtures/server-process.ts', [
      join(dir, 'data'),
      JSON.stringify({ credentialsFile: credentials, scryptCost: TEST_SCRYPT }),
    ]);
    t.after(() => server.kill());
    // A process of its own through tsx: slow to start on a busy machine.
    const url = (await server.waitFor(/url (\S+)/, 60_000))[1]!;
    const alice = new ParleyClient(url, { requestTimeoutMs: 3000 });
    t.after(() => alice.close());
    await alice.connect();
    await alice.login('alice', passwordOf('alice'));
    await alice.message('bob', 'before');
    assert.equal((await get(`${url}/readyz`)).status, 200);

    // As a full disk would: no file of the server's process may grow any more.
    const limit = (size: string): void => void execFileSync('prlimit', ['--pid', String(server.child.pid), `--fsize=${size}`]);
    limit('0:');
    t.after(() => server.running && limit('unlimited:'));
    let refused = 0;
    await eventually(
      async () => {
        try {
          await alice.message('bob', 'while the disk is full');
        } catch (err) {
          assert.ok(err instanceof ParleyRequestError && err.code === 'INTERNAL', String(err));
          refused++;
        }
        return refused > 0;
      },
      10_000,
      'a send the store cannot commit',
    );
    const unready = await get(`${url}/readyz`);
    assert.equal(unready.status, 503);
    assert.match(unready.body, /^not ready: the last commit failed: .+\n$/);
    assert.deepEqual(await get(`${url}/healthz`), { status: 200, body: 'ok\n' });

    limit('unlimited:');
    await alice.message('bob', 'after');
    assert.deepEqual(await get(`${url}/readyz`), { status: 200, body: 'ready\n' });
  });
});
