import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { after, describe, test } from 'node:test';
import { ChatSession } from '../src/extension/core/chat-session';
import { LocalServer, LocalServerError, shutdown } from '../src/extension/core/local-server';
import { silentLogger } from '../src/server/log';
import { createParleyServer } from '../src/server/server';
import { sessionFor } from './helpers/extension-session';
import { next, startServer, tempDir } from './helpers/server';

/** This machine's own IPv4 addresses other than loopback (none on a machine without a network). */
const interfaceAddresses = (): string[] =>
  Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => i.family === 'IPv4' && !i.internal)
    .map((i) => i.address);

/** Whether a TCP connection to host:port is accepted ('connected') or refused (the error's code). */
function tryConnect(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)));
  });
}

describe('local server started from the editor', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A local server, not started yet, and a data directory of its own (removed after the suite). */
  function fresh(): { local: LocalServer; dataDir: string } {
    const dataDir = tempDir();
    dirs.push(dataDir);
    return { local: new LocalServer(() => createParleyServer), dataDir };
  }

  test('starts on loopback, takes a first user, and that user can sign in and chat; stops cleanly', async () => {
    const { local, dataDir } = fresh();
    await local.start({ port: 0, allowNetwork: false, dataDir, log: silentLogger });
    assert.equal(local.running, true);
    assert.equal(local.address, '127.0.0.1');
    assert.equal(local.allowsNetwork, false);
    assert.match(local.localUrl!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(local.joinAddresses(), [local.localUrl]);
    assert.equal(await local.hasUsers(), false);
    await local.addUser('ann', 'correct horse');
    assert.deepEqual(await local.users(), ['ann']);
    await assert.rejects(local.addUser('ann', 'again'), /already exists/);

    const session = new ChatSession({ client: { requestTimeoutMs: 3000 } });
    try {
      await session.connect(local.localUrl!, 'ann', 'correct horse');
      const sent = await session.sendTo('everyone', 'hello, world');
      assert.equal(sent.body, 'hello, world');
    } finally {
      session.dispose();
    }
    await local.stop();
    assert.equal(local.running, false);
    assert.equal(local.localUrl, undefined);

    // The data is kept: a restart knows the user.
    await local.start({ port: 0, allowNetwork: false, dataDir, log: silentLogger });
    assert.deepEqual(await local.users(), ['ann']);
    await local.stop();
  });

  test('a port in use gives a clear error and leaves nothing running or locked', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const { local, dataDir } = fresh();
    try {
      await assert.rejects(local.start({ port, allowNetwork: false, dataDir, log: silentLogger }), (err: LocalServerError) => {
        assert.ok(err instanceof LocalServerError);
        assert.equal(err.code, 'PORT_IN_USE');
        assert.match(err.message, new RegExp(`Port ${port} is already in use`));
        assert.match(err.message, /parley\.localServer\.port/);
        return true;
      });
      assert.equal(local.running, false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    // The store was released: the same data directory starts now.
    await local.start({ port, allowNetwork: false, dataDir, log: silentLogger });
    assert.equal(local.port, port);
    await local.stop();
  });

  test('by default only this machine can connect: its network address is refused, the join address is loopback', async (t) => {
    const { local, dataDir } = fresh();
    await local.start({ port: 0, allowNetwork: false, dataDir, log: silentLogger });
    try {
      const port = local.port!;
      assert.equal(local.address, '127.0.0.1');
      assert.equal(await tryConnect('127.0.0.1', port), 'connected');
      assert.deepEqual(local.joinAddresses(), [`http://127.0.0.1:${port}`]);
      const external = interfaceAddresses();
      if (external.length === 0) t.diagnostic('this machine has no network interface besides loopback: nothing to refuse');
      for (const address of external) assert.equal(await tryConnect(address, port), 'ECONNREFUSED', address);
    } finally {
      await local.stop();
    }
  });

  test('with the network allowed it listens on every interface and offers the machine’s addresses', async () => {
    const { local, dataDir } = fresh();
    await local.start({ port: 0, allowNetwork: true, dataDir, log: silentLogger });
    try {
      const port = local.port!;
      assert.equal(local.address, '0.0.0.0');
      assert.equal(local.allowsNetwork, true);
      assert.equal(local.localUrl, `http://127.0.0.1:${port}`, 'this editor still signs in over loopback');
      const external = interfaceAddresses();
      const expected = external.length ? external.map((a) => `http://${a}:${port}`) : [`http://127.0.0.1:${port}`];
      assert.deepEqual(local.joinAddresses(), expected);
      for (const address of [...external, '127.0.0.1']) assert.equal(await tryConnect(address, port), 'connected', address);
    } finally {
      await local.stop();
    }
    assert.deepEqual(local.joinAddresses(), []);
    assert.equal(local.allowsNetwork, false);
  });

  test('shutting down (deactivate) closes the connection and stops the local server', async () => {
    const { local, dataDir } = fresh();
    await local.start({ port: 0, allowNetwork: false, dataDir, log: silentLogger });
    const port = local.port!;
    // The session is on another server, so that its connection closing is seen apart from the local server stopping.
    const t = await startServer({ users: ['alice', 'bob'] });
    try {
      const session = sessionFor(t);
      await session.connect(t.url, 'alice', 'alice-pw');
      session.on('notify', () => {});
      const bob = await t.signIn('bob');
      const aliceGone = next(bob, 'presence', (e) => e.username === 'alice' && !e.online, 5000);
      const problems: string[] = [];
      await shutdown(session, local, (text) => problems.push(text));
      await aliceGone;
      assert.equal(session.listenerCount('notify'), 0, 'the session’s listeners are gone');
      assert.equal(local.running, false);
      assert.equal(await tryConnect('127.0.0.1', port), 'ECONNREFUSED');
      assert.deepEqual(problems, []);
    } finally {
      await t.close();
    }
  });
});
