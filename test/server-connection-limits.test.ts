import assert from 'node:assert/strict';
import { test } from 'node:test';
import { io, Manager, type Socket } from 'socket.io-client';
import { PROTOCOL_VERSION } from '../src/protocol';
import { collect, eventually, passwordOf, startServer } from './helpers/server';

/** An Engine.IO connection that never sends Socket.IO's CONNECT, as a hostile client would hold it. */
async function bareTransport(url: string): Promise<{ manager: Manager; closed: () => boolean }> {
  const manager = new Manager(url, { transports: ['websocket'], reconnection: false, autoConnect: false });
  let closed = false;
  manager.on('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => manager.open((err) => (err ? reject(err) : resolve())));
  return { manager, closed: () => closed };
}

test('Engine.IO connections that never send CONNECT count against the limit of their address', async (t) => {
  const s = await startServer({ users: ['alice'], maxConnectionsPerAddress: 3 });
  t.after(() => s.close());
  const bare = [await bareTransport(s.url), await bareTransport(s.url), await bareTransport(s.url)];
  t.after(() => bare.forEach((b) => b.manager.engine.close()));

  await assert.rejects(s.connect(), {
    code: 'RATE_LIMITED',
    message: /^Too many connections from .* \(at most 3\); close some and try again\.$/,
  });
  // One more bare one is closed by the server at once, not held.
  const extra = await bareTransport(s.url);
  await eventually(extra.closed, 3000, 'the server to close the extra transport');

  bare[0]!.manager.engine.close();
  await eventually(
    async () => {
      const client = await s.connect().catch(() => undefined); // the server may not have seen the close yet
      if (!client) return false;
      await client.login('alice', passwordOf('alice'));
      return true;
    },
    3000,
    'room for a client',
  );
});

test('a connection that does not sign in within the deadline is closed with a reason, and its client may still sign in', async (t) => {
  const s = await startServer({ users: ['alice', 'bob'], timings: { signInDeadlineMs: 5000 } });
  t.after(() => s.close());
  const bare = await bareTransport(s.url);
  t.after(() => bare.manager.engine.close());
  const raw: Socket = io(s.url, { auth: { protocol: PROTOCOL_VERSION }, transports: ['websocket'], reconnection: false, forceNew: true });
  t.after(() => raw.close());
  const told: { code: string; message: string }[] = [];
  raw.on('protocolError' as never, (error: { code: string; message: string }) => void told.push(error));
  await new Promise<void>((resolve) => raw.once('connect', resolve));
  const waiting = await s.connect(); // the reference client, its user still typing the password
  const bob = await s.signIn('bob');

  const states = collect(waiting, 'state');
  s.clock.advance(5000);
  await eventually(() => bare.closed() && raw.disconnected, 3000, 'the deadline to close both');
  assert.deepEqual(told, [
    { code: 'NOT_SIGNED_IN', message: 'No sign-in within 5 seconds of connecting; the server closed this connection.' },
  ]);
  await eventually(() => states.some(([state]) => state === 'connecting'), 3000, 'the waiting client to lose its connection');

  await waiting.login('alice', passwordOf('alice'));
  s.clock.advance(60_000);
  assert.deepEqual((await bob.whoelse()).users, ['alice'], 'signed-in connections have no deadline');
});
