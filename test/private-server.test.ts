import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { ParleyClient, ParleyRequestError } from '../src/client/parley-client';
import { generatePeerKeys, importTicketKey, verifyTicket } from '../src/client/private-crypto';
import { DEFAULT_TIMINGS } from '../src/server/options';
import { LIMITS, type ReplyBodies, type RequestPayload } from '../src/protocol';
import { peerHostRefusal } from '../src/server/private-chat';
import { LOOPBACK_PEERS, next, passwordOf, startServer, type TestServer } from './helpers/server';

const refusedWith = (code: string, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof ParleyRequestError, String(err));
  assert.equal(err.code, code, err.message);
  if (message) assert.match(err.message, message);
  return true;
};

/** Registers a peer listener as a client would (no socket needs to listen there for the server's part). */
function register(client: ParleyClient, port: number, extra: Partial<RequestPayload<'peer'>> = {}) {
  const keys = generatePeerKeys();
  return client.request('peer', { port, publicKey: keys.publicKey, ...extra }).then((reply) => ({ reply, keys }));
}

const ask = (client: ParleyClient, username: string): Promise<ReplyBodies['startprivate']> =>
  client.request('startprivate', { username, publicKey: generatePeerKeys().publicKey });

describe('private chat: the message center’s part', { skip: LOOPBACK_PEERS }, () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'dave'] });
  });
  after(() => t.close());

  test('a session registers its listener; the server answers with its ticket key and time; bad registrations are refused', async () => {
    const alice = await t.signIn('alice');
    const { reply } = await register(alice, 4100);
    assert.deepEqual(
      { ...reply, ticketKey: reply.ticketKey.length },
      {
        host: '127.0.0.1', // the address the server sees, when the client names none
        port: 4100,
        ticketKey: 43,
        serverTime: t.clock.now,
        ticketTtlMs: DEFAULT_TIMINGS.ticketTtlMs,
        blocked: [],
      },
    );
    assert.equal((await register(alice, 4101, { host: '::1' })).reply.host, '::1');

    const keys = generatePeerKeys();
    for (const payload of [
      { port: 4100, publicKey: keys.publicKey, host: 'example.org' },
      { port: 0, publicKey: keys.publicKey },
      { port: 4100, publicKey: 'short' },
      { port: 4100, publicKey: keys.publicKey, name: 'alice' },
      { port: 4100, publicKey: keys.publicKey, partners: ['bob', 'not a name'] },
      { port: 4100, publicKey: keys.publicKey, partners: Array.from({ length: LIMITS.privatePartnersMax + 1 }, (_, i) => `u${i}`) },
    ]) {
      await assert.rejects(alice.request('peer', payload as never), refusedWith('BAD_REQUEST'));
    }
    await assert.rejects(alice.request('startprivate', { username: 'bob' } as never), refusedWith('BAD_REQUEST', /publicKey/));
    const anonymous = await t.connect();
    await assert.rejects(register(anonymous, 4100), refusedWith('NOT_SIGNED_IN'));
    alice.close();
    anonymous.close();
  });

  test('startprivate hands out the address and a ticket signed by the server that binds both users and both keys', async () => {
    const [alice, bob] = [await t.signIn('alice'), await t.signIn('bob')];
    const { reply: registered } = await register(alice, 4200);
    const { keys: bobKeys } = await register(bob, 4300);
    const aliceKeys = generatePeerKeys();
    const reply = await alice.request('startprivate', { username: 'bob', publicKey: aliceKeys.publicKey });
    assert.deepEqual([reply.username, reply.host, reply.port, reply.publicKey], ['bob', '127.0.0.1', 4300, bobKeys.publicKey]);

    const payload = verifyTicket(reply.ticket, importTicketKey(registered.ticketKey));
    assert.ok(payload, 'the signature checks out with the key from the peer reply');
    assert.deepEqual(
      { ...payload, nonce: payload.nonce.length },
      {
        v: 1,
        from: 'alice',
        to: 'bob',
        fromKey: aliceKeys.publicKey,
        toKey: bobKeys.publicKey,
        iat: t.clock.now,
        exp: reply.expiresAt,
        nonce: 22,
      },
    );
    assert.equal(reply.expiresAt, t.clock.now + DEFAULT_TIMINGS.ticketTtlMs);
    assert.notEqual(verifyTicket((await ask(alice, 'bob')).ticket, importTicketKey(registered.ticketKey))!.nonce, payload.nonce);
    const otherServer = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
    assert.equal(verifyTicket(reply.ticket, importTicketKey(otherServer)), undefined, 'another server’s key does not vouch for it');
    alice.close();
    bob.close();
  });

  test('refused with a clear code: yourself, nobody, offline, no listener, blocked either way (before revealing presence)', async () => {
    const [alice, bob] = [await t.signIn('alice'), await t.signIn('bob')];
    await assert.rejects(ask(alice, 'alice'), refusedWith('SELF'));
    await assert.rejects(ask(alice, 'zed'), refusedWith('UNKNOWN_USER', /no user named "zed"/));
    await assert.rejects(ask(alice, 'carol'), refusedWith('USER_OFFLINE', /carol is not online; "message carol <text>"/));
    await assert.rejects(
      ask(alice, 'bob'),
      refusedWith('NO_PEER_LISTENER', /takes no direct connections; "message bob <text>" sends through the server/),
    );

    await register(bob, 4400);
    await alice.block('bob');
    await assert.rejects(ask(alice, 'bob'), refusedWith('BLOCKED', /You have blocked bob/));
    await assert.rejects(ask(bob, 'alice'), refusedWith('BLOCKED', /alice has blocked you/));
    await alice.unblock('bob');
    await ask(alice, 'bob');

    // dave is offline; between blocked users that is not revealed: the block is what is reported.
    await assert.rejects(ask(bob, 'dave'), refusedWith('USER_OFFLINE'));
    await alice.block('dave');
    await assert.rejects(ask(alice, 'dave'), refusedWith('BLOCKED'));
    await alice.unblock('dave');
    alice.close();
    bob.close();
  });

  test('with several sessions, the most recently active one that has a listener is chosen', async () => {
    const alice = await t.signIn('alice');
    const [first, second, third] = [await t.signIn('carol'), await t.signIn('carol'), await t.signIn('carol')];
    await register(first, 5001);
    t.clock.advance(1000);
    await register(second, 5002);
    assert.equal((await ask(alice, 'carol')).port, 5002, 'the latest to register');
    t.clock.advance(1000);
    await first.whoelse();
    assert.equal((await ask(alice, 'carol')).port, 5001, 'the most recently active');
    t.clock.advance(1000);
    await third.whoelse();
    assert.equal((await ask(alice, 'carol')).port, 5001, 'a session without a listener is never chosen');
    first.close();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await ask(alice, 'carol')).port, 5002, 'a registration ends with its session');
    second.close();
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(ask(alice, 'carol'), refusedWith('NO_PEER_LISTENER'));
    third.close();
    alice.close();
  });

  test('a block tells every session of both users that any private chat between them is over', async () => {
    const [alice, alice2, bob, carol] = [await t.signIn('alice'), await t.signIn('alice'), await t.signIn('bob'), await t.signIn('carol')];
    const heard = [alice, alice2, bob].map((c) => next(c, 'privateRevoked'));
    let carolHeard = false;
    carol.on('privateRevoked', () => (carolHeard = true));
    t.clock.advance(1000);
    await bob.block('alice');
    const events = (await Promise.all(heard)).map(([e]) => e);
    assert.deepEqual(events, [
      { username: 'bob', reason: 'blocked', at: t.clock.now },
      { username: 'bob', reason: 'blocked', at: t.clock.now },
      { username: 'alice', reason: 'blocked', at: t.clock.now },
    ]);
    assert.equal(carolHeard, false, 'nobody else hears of it');
    await bob.unblock('alice');
    for (const c of [alice, alice2, bob, carol]) c.close();
  });

  test('a registration names the partners it chats with; the reply says which of them a block now stands between, either way', async () => {
    const [alice, bob, carol] = [await t.signIn('alice'), await t.signIn('bob'), await t.signIn('carol')];
    await alice.block('bob');
    await carol.block('alice');
    const { reply } = await register(alice, 4600, { partners: ['bob', 'carol', 'dave', 'nobody'] });
    assert.deepEqual(reply.blocked, ['bob', 'carol']);
    assert.deepEqual((await register(bob, 4601, { partners: ['alice'] })).reply.blocked, ['alice'], 'the blocked side hears it too');
    await alice.unblock('bob');
    await carol.unblock('alice');
    assert.deepEqual((await register(alice, 4600, { partners: ['bob', 'carol'] })).reply.blocked, []);
    for (const c of [alice, bob, carol]) c.close();
  });
});

describe('private chat: addresses that would point others at their own machine', { skip: LOOPBACK_PEERS }, () => {
  test('a loopback or unspecified host is accepted only from a client on the server’s machine', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '0.0.0.0', '::']) {
      assert.match(peerHostRefusal(host, '192.0.2.7') ?? '', /would have others dial their own machine/, host);
      assert.match(peerHostRefusal(host, '::ffff:198.51.100.4') ?? '', /would have others dial their own machine/, host);
      assert.equal(peerHostRefusal(host, '127.0.0.1'), undefined, host);
      assert.equal(peerHostRefusal(host, '::ffff:127.0.0.1'), undefined, host);
      assert.equal(peerHostRefusal(host, '::1'), undefined, host);
    }
    for (const host of ['192.0.2.7', '203.0.113.9', '10.1.2.3', 'fd00::2', '::ffff:192.0.2.7']) {
      assert.equal(peerHostRefusal(host, '198.51.100.4'), undefined, `${host}: another address of the client's is its to name`);
    }
  });

  test('over a real interface: a remote client cannot register loopback, nor is handed a loopback listener', async (tc) => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!external) return tc.skip('this machine has no non-loopback IPv4 interface');
    const t = await startServer({ users: ['alice', 'bob'], host: '0.0.0.0' });
    const remote = new ParleyClient(`http://${external}:${t.port}`, { requestTimeoutMs: 3000 });
    try {
      await remote.connect();
      await remote.login('alice', passwordOf('alice'));
      for (const host of ['127.0.0.1', '0.0.0.0']) {
        await assert.rejects(register(remote, 4700, { host }), refusedWith('BAD_REQUEST', /would have others dial their own machine/));
      }
      assert.equal((await register(remote, 4700, { host: external })).reply.host, external, 'its own address is fine');
      assert.equal((await register(remote, 4700)).reply.host, external, 'and is what the server sees');

      const local = await t.signIn('bob');
      await register(local, 4800, { host: '127.0.0.1' });
      await assert.rejects(ask(remote, 'bob'), refusedWith('NO_PEER_LISTENER', /only from the server's machine/));
      assert.equal((await ask(local, 'alice')).host, external, 'the local client may dial out');
    } finally {
      remote.close();
      await t.close();
    }
  });
});
