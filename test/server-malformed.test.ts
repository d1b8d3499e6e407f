import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { LIMITS, PROTOCOL_VERSION, type Reply } from '../src/protocol';
import { collect, eventually, PER_NODE_LIMIT, startServer, type TestServer } from './helpers/server';

/** A bare Socket.IO client that can send anything, as a broken or hostile client would. */
async function rawSocket(url: string): Promise<Socket> {
  const socket = io(url, { auth: { protocol: PROTOCOL_VERSION }, transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

function ask(socket: Socket, event: string, ...args: unknown[]): Promise<Reply> {
  return socket.timeout(2000).emitWithAck(event, ...args) as Promise<Reply>;
}

function assertError(reply: Reply, code: string, message?: RegExp): void {
  assert.equal(reply.ok, false, `expected ${code}, got ${JSON.stringify(reply)}`);
  if (reply.ok) return;
  assert.equal(reply.error.code, code, JSON.stringify(reply.error));
  assert.ok(reply.error.message.length > 0);
  if (message) assert.match(reply.error.message, message);
}

describe('malformed and hostile input', () => {
  let t: TestServer;
  let signedIn: Socket;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob'], rateLimit: { burst: 1000, perSecond: 1000 } });
    signedIn = await rawSocket(t.url);
    const reply = await ask(signedIn, 'login', { username: 'alice', password: 'alice-pw' });
    assert.equal(reply.ok, true);
  });
  after(async () => {
    signedIn.close();
    await t.close();
  });

  test('wrong shapes and types get BAD_REQUEST naming the field', async () => {
    assertError(await ask(signedIn, 'message', { to: 'bob' }), 'BAD_REQUEST', /body/);
    assertError(await ask(signedIn, 'message', { to: 42, body: 'x' }), 'BAD_REQUEST', /to/);
    assertError(await ask(signedIn, 'message', 'message bob hi'), 'BAD_REQUEST');
    assertError(await ask(signedIn, 'message', null), 'BAD_REQUEST');
    assertError(await ask(signedIn, 'message', [1, 2]), 'BAD_REQUEST');
    assertError(await ask(signedIn, 'message', { to: 'bob', body: 'x', extra: true }), 'BAD_REQUEST', /extra/);
    assertError(await ask(signedIn, 'wholast', { minutes: '5' }), 'BAD_REQUEST', /minutes/);
    assertError(await ask(signedIn, 'wholast', { minutes: 2.5 }), 'BAD_REQUEST', /whole number/);
    assertError(await ask(signedIn, 'broadcast', { body: 'x', to: 'bob' }), 'BAD_REQUEST', /to/);
    assertError(await ask(signedIn, 'broadcast', { body: 'x', to: [] }), 'BAD_REQUEST');
    assertError(await ask(signedIn, 'received', { ids: [-1] }), 'BAD_REQUEST');
    assertError(await ask(signedIn, 'block', { username: '../etc' }), 'BAD_REQUEST', /letters, digits/);
    assertError(await ask(signedIn, 'login', { username: 'alice' }), 'BAD_REQUEST');
    assertError(await ask(signedIn, 'whoelse'), 'BAD_REQUEST', /exactly one payload/);
    assertError(await ask(signedIn, 'whoelse', {}, {}), 'BAD_REQUEST', /exactly one payload/);
  });

  test('oversized fields are refused with their limit', async () => {
    assertError(await ask(signedIn, 'message', { to: 'bob', body: 'x'.repeat(4001) }), 'TOO_LONG', /at most 4000/);
    // Lengths count UTF-16 units (docs/protocol.md 2.4), as the clients do: an emoji is two.
    assertError(await ask(signedIn, 'message', { to: 'bob', body: '😀'.repeat(2000) + 'x' }), 'TOO_LONG', /at most 4000/);
    assertError(await ask(signedIn, 'broadcast', { body: '😀'.repeat(4000) }), 'TOO_LONG', /at most 4000/);
    assertError(await ask(signedIn, 'login', { username: 'a', password: '😀'.repeat(129) }), 'BAD_REQUEST', /at most 256/);
    assert.equal(((await ask(signedIn, 'message', { to: 'bob', body: '😀'.repeat(2000) })) as { ok: boolean }).ok, true);
    assertError(await ask(signedIn, 'message', { to: 'b'.repeat(33), body: 'x' }), 'BAD_REQUEST', /at most 32/);
    assertError(await ask(signedIn, 'login', { username: 'a', password: 'p'.repeat(257) }), 'BAD_REQUEST');
  });

  test('an unknown event gets UNKNOWN_EVENT through its ack, or a protocolError event without one', async () => {
    assertError(await ask(signedIn, 'selfdestruct', {}), 'UNKNOWN_EVENT', /"selfdestruct"/);
    const error = new Promise<{ code: string; event?: string }>((resolve) => signedIn.once('protocolError', resolve));
    signedIn.emit('selfdestruct', {});
    assert.deepEqual(await error, { code: 'UNKNOWN_EVENT', message: 'Unknown event "selfdestruct".', event: 'selfdestruct' });
    const missingAck = new Promise<{ code: string }>((resolve) => signedIn.once('protocolError', resolve));
    signedIn.emit('whoelse', {});
    assert.equal((await missingAck).code, 'BAD_REQUEST');
  });

  test('received may come without an ack: it counts and nothing comes back, unless it fails (protocolError)', async () => {
    const bob = await t.signIn('bob');
    const delivered = new Promise<{ id: number }>((resolve) => signedIn.once('message', resolve));
    await bob.message('alice', 'ack me without an answer');
    const { id } = await delivered;
    const errors: { code: string; event?: string }[] = [];
    const onError = (e: { code: string; event?: string }): void => void errors.push(e);
    signedIn.on('protocolError', onError);
    try {
      signedIn.emit('received', { ids: [id] });
      // Requests are handled and stored in order: by this reply the first has been applied, and answered nothing.
      const again = await ask(signedIn, 'received', { ids: [id] });
      assert.deepEqual(again, { ok: true, count: 0 }, 'the ack without a callback already acknowledged it');
      assert.deepEqual(errors, []);

      const failed = new Promise<{ code: string; event?: string }>((resolve) => signedIn.once('protocolError', resolve));
      signedIn.emit('received', { ids: [-1] });
      const error = await failed;
      assert.equal(error.code, 'BAD_REQUEST');
      assert.equal(error.event, 'received');
    } finally {
      signedIn.off('protocolError', onError);
      bob.close();
    }
  });

  test('commands before sign-in are refused', async () => {
    const anonymous = await rawSocket(t.url);
    assertError(await ask(anonymous, 'whoelse', {}), 'NOT_SIGNED_IN');
    assertError(await ask(anonymous, 'message', { to: 'bob', body: 'x' }), 'NOT_SIGNED_IN');
    anonymous.close();
  });

  test('a packet larger than the limit closes that connection only; the server carries on', async () => {
    const big = await rawSocket(t.url);
    const closed = new Promise<string>((resolve) => big.once('disconnect', resolve));
    big.emit('message', { to: 'bob', body: 'x'.repeat(200_000) }, () => {});
    assert.equal(await closed, 'transport close');
    const reply = await ask(signedIn, 'whoelse', {});
    assert.equal(reply.ok, true);
  });

  test('the client core refuses a request too large for one packet with TOO_LONG, and its connection stays up', async () => {
    const bob = await t.signIn('bob');
    const states = collect(bob, 'state');
    const connectionId = (bob as unknown as { socket: Socket }).socket.id;
    await assert.rejects(bob.message('alice', 'x'.repeat(LIMITS.packetBytesMax)), {
      code: 'TOO_LONG',
      message: /^This "message" request is too large to send: \d+ bytes, and the server reads at most 65536 per packet\.$/,
    });
    // Bytes count, not characters: 22,000 euro signs are 66,000 bytes.
    await assert.rejects(bob.broadcast('€'.repeat(22_000)), { code: 'TOO_LONG' });
    assert.equal((await bob.whoelse()).users.includes('alice'), true);
    assert.deepEqual(states, [], 'the connection never dropped');
    assert.equal((bob as unknown as { socket: Socket }).socket.id, connectionId);
    bob.close();
  });

  test('a flood is rate limited with a clear error, and the connection recovers', async () => {
    const limited = await startServer({ users: ['alice'], rateLimit: { burst: 5, perSecond: 1 } });
    try {
      const socket = await rawSocket(limited.url);
      await ask(socket, 'login', { username: 'alice', password: 'alice-pw' });
      const replies = await Promise.all(Array.from({ length: 20 }, () => ask(socket, 'whoelse', {})));
      assertError(await ask(socket, 'no-such-event', {}), 'RATE_LIMITED', /slow down/);
      const refused = replies.filter((r) => !r.ok);
      assert.equal(replies.filter((r) => r.ok).length, 4, 'the burst, less the login');
      assertError(refused[0]!, 'RATE_LIMITED', /slow down/);
      limited.clock.advance(2000);
      assert.equal((await ask(socket, 'whoelse', {})).ok, true);
      socket.close();
    } finally {
      await limited.close();
    }
  });

  test('after all of that the server still answers', async () => {
    const reply = await ask(signedIn, 'whoelse', {});
    assert.deepEqual(reply, { ok: true, users: [] });
  });
});

describe('connections from one address', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice'], maxConnectionsPerAddress: 3 });
  });
  after(() => t.close());

  test('past the limit a connection is refused with a clear error; closing one makes room', { skip: PER_NODE_LIMIT }, async () => {
    const open = [await t.connect(), await t.connect(), await t.connect()];
    await assert.rejects(t.connect(), {
      code: 'RATE_LIMITED',
      message: /^Too many connections from .* \(at most 3\); close some and try again\.$/,
    });
    open[0]!.close();
    const deadline = Date.now() + 3000;
    for (;;) {
      try {
        const again = await t.connect();
        await again.login('alice', 'alice-pw');
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err; // the server may not have seen the close yet
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
});

describe('U+0000, which the store cannot keep', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob'] });
  });
  after(() => t.close());

  test('in a body or a clientMsgId it is refused, never stored cut short nor acknowledged as sent', async () => {
    const alice = await rawSocket(t.url);
    assert.equal((await ask(alice, 'login', { username: 'alice', password: 'alice-pw' })).ok, true);
    const nul = /cannot contain the character U\+0000 \(NUL\)/;
    assertError(await ask(alice, 'message', { to: 'bob', body: 'before\0after' }), 'BAD_REQUEST', nul);
    assertError(await ask(alice, 'message', { to: 'bob', body: '\0' }), 'BAD_REQUEST', nul);
    assertError(await ask(alice, 'broadcast', { to: ['bob'], body: 'all\0of it' }), 'BAD_REQUEST', nul);
    // Two ids that differ only after the NUL: stored cut short, the second would pass for a retry of the first.
    assertError(await ask(alice, 'message', { to: 'bob', body: 'first', clientMsgId: 'id\0one' }), 'BAD_REQUEST', /clientMsgId: .*NUL/);
    assertError(await ask(alice, 'message', { to: 'bob', body: 'second', clientMsgId: 'id\0two' }), 'BAD_REQUEST', /clientMsgId: .*NUL/);
    const plain = await ask(alice, 'message', { to: 'bob', body: 'plain', clientMsgId: 'id' });
    assert.equal(plain.ok, true, JSON.stringify(plain));
    alice.close();

    // Bob's replay and history hold exactly what was acknowledged.
    const bob = await t.connect();
    const replayed = collect(bob, 'message');
    await bob.login('bob', 'bob-pw');
    await eventually(() => replayed.length > 0, 3000, 'the replay');
    const history = await bob.history({ with: 'alice' });
    assert.deepEqual(
      history.messages.map((m) => m.body),
      ['plain'],
    );
    assert.deepEqual(
      replayed.map(([m]) => m.body),
      ['plain'],
    );
  });
});

describe('lone UTF-16 surrogates, which UTF-8 cannot carry', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob'] });
  });
  after(() => t.close());

  test('are refused in a body, a clientMsgId or a password; surrogate pairs (emoji) are kept exactly', async () => {
    const alice = await rawSocket(t.url);
    const lone = /lone UTF-16 surrogate/;
    assertError(await ask(alice, 'login', { username: 'alice', password: 'alice-pw\uD800' }), 'BAD_REQUEST', lone);
    assert.equal((await ask(alice, 'login', { username: 'alice', password: 'alice-pw' })).ok, true);
    assertError(await ask(alice, 'message', { to: 'bob', body: 'mid\uD800\uD800x' }), 'BAD_REQUEST', lone);
    assertError(await ask(alice, 'message', { to: 'bob', body: 'end\uDC00' }), 'BAD_REQUEST', lone);
    assertError(await ask(alice, 'broadcast', { to: ['bob'], body: '\uDFFFstart' }), 'BAD_REQUEST', lone);
    // Ids that differ only in their lone surrogates would be stored alike: the second would pass for a retry of the first.
    for (const id of ['q\uDC00\uD800', 'q\uDC00\uD801', 's\uDC00', 's\uDC00\uD800']) {
      assertError(
        await ask(alice, 'message', { to: 'bob', body: `with ${id}`, clientMsgId: id }),
        'BAD_REQUEST',
        /clientMsgId: .*surrogate/,
      );
    }
    const emoji = 'ship it \u{1F680} \uD83D\uDE00';
    const sent = await ask(alice, 'message', { to: 'bob', body: emoji, clientMsgId: 'id \u{1F680}' });
    assert.equal(sent.ok, true, JSON.stringify(sent));
    alice.close();

    const bob = await t.connect();
    const replayed = collect(bob, 'message');
    await bob.login('bob', 'bob-pw');
    await eventually(() => replayed.length > 0, 3000, 'the replay');
    assert.deepEqual(
      (await bob.history({ with: 'alice' })).messages.map((m) => m.body),
      [emoji],
    );
    assert.deepEqual(
      replayed.map(([m]) => m.body),
      [emoji],
    );
  });
});
