import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChatMessage } from '../src/protocol';
import { collect, eventually, next, startServer, type TestServer } from './helpers/server';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('direct messages', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'] });
  });
  after(() => t.close());

  test('an online recipient gets the message at once, with sender, time and id', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    const arrival = next(bob, 'message');
    const sent = await alice.message('bob', 'hi bob');
    assert.equal(sent.online, true);
    const [m] = await arrival;
    assert.deepEqual(m, { id: sent.id, from: 'alice', to: 'bob', kind: 'direct', body: 'hi bob', sentAt: t.clock.now });
    alice.close();
    bob.close();
  });

  test('an offline recipient gets messages at the next sign-in, in order, with original time and sender, once', async () => {
    const alice = await t.signIn('alice');
    const first = await alice.message('carol', 'one');
    assert.equal(first.online, false);
    t.clock.advance(60_000);
    await alice.message('carol', 'two');
    t.clock.advance(60_000);
    await alice.message('carol', 'three');

    const carol = await t.connect();
    const got = collect(carol, 'message');
    await carol.login('carol', 'carol-pw');
    await eventually(() => got.length === 3, 3000, 'three stored messages');
    assert.deepEqual(
      got.map(([m]) => [m.body, m.from, m.sentAt]),
      [
        ['one', 'alice', first.sentAt],
        ['two', 'alice', first.sentAt + 60_000],
        ['three', 'alice', first.sentAt + 120_000],
      ],
    );
    // The client acknowledged them, so a later sign-in does not bring them again.
    await pause(100);
    carol.close();
    const again = await t.connect();
    const later = collect(again, 'message');
    await again.login('carol', 'carol-pw');
    await pause(200);
    assert.equal(later.length, 0);
    again.close();
    alice.close();
  });

  test('a message that was not acknowledged is sent again at the next sign-in', async () => {
    const alice = await t.signIn('alice');
    const sent = await alice.message('carol', 'unacknowledged');
    // A raw socket that signs in as carol but never says "received".
    const raw = await t.connect();
    const rawSocket = (
      raw as unknown as {
        socket: { on: (e: string, f: (m: ChatMessage) => void) => void; off: (e: string) => void; emit: (...a: unknown[]) => void };
      }
    ).socket;
    rawSocket.off('message'); // the client core's own listener would acknowledge
    const rawGot: ChatMessage[] = [];
    rawSocket.on('message', (m) => rawGot.push(m));
    await new Promise<void>((resolve) => rawSocket.emit('login', { username: 'carol', password: 'carol-pw' }, () => resolve()));
    await eventually(() => rawGot.length === 1);
    raw.close();

    const carol = await t.connect();
    const got = collect(carol, 'message');
    await carol.login('carol', 'carol-pw');
    await eventually(() => got.length === 1);
    assert.equal(got[0]![0].id, sent.id);
    alice.close();
    carol.close();
  });

  test('a retried send with the same client id is stored and delivered once', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    const got = collect(bob, 'message');
    const payload = { to: 'bob', body: 'only once', clientMsgId: 'retry-1' };
    const a = await alice.request('message', payload);
    const b = await alice.request('message', payload);
    assert.equal(a.id, b.id);
    await pause(100);
    assert.equal(got.length, 1);
    alice.close();
    bob.close();
  });

  test('errors: unknown user, yourself, too long', async () => {
    const alice = await t.signIn('alice');
    await assert.rejects(alice.message('zed', 'hi'), { code: 'UNKNOWN_USER', message: 'There is no user named "zed".' });
    await assert.rejects(alice.message('alice', 'hi'), { code: 'SELF' });
    await assert.rejects(alice.message('bob', 'x'.repeat(4001)), { code: 'TOO_LONG' });
    await assert.rejects(alice.message('bob', '   '), { code: 'BAD_REQUEST' });
    alice.close();
  });

  test('history pages back through a conversation, oldest first within a page', async () => {
    const dave = await t.signIn('alice');
    const bob = await t.signIn('bob');
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push((await dave.message('bob', `h${i}`)).id);
    await bob.message('alice', 'reply');
    const page1 = await bob.history({ with: 'alice', limit: 3 });
    assert.deepEqual(
      page1.messages.map((m) => m.body),
      ['h3', 'h4', 'reply'],
    );
    assert.equal(page1.more, true);
    const page2 = await bob.history({ with: 'alice', limit: 3, before: page1.messages[0]!.id });
    assert.deepEqual(
      page2.messages.slice(-3).map((m) => m.body),
      ['h0', 'h1', 'h2'],
    );
    await assert.rejects(bob.history({ with: 'nobody' }), { code: 'UNKNOWN_USER' });
    dave.close();
    bob.close();
  });
});

describe('broadcasts', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'dave'] });
  });
  after(() => t.close());

  test('"broadcast message" reaches everyone online but the sender', async () => {
    const [alice, bob, carol] = await Promise.all([t.signIn('alice'), t.signIn('bob'), t.signIn('carol')]);
    const aliceGot = collect(alice, 'message');
    const arrivals = Promise.all([next(bob, 'message'), next(carol, 'message')]);
    const reply = await alice.broadcast('hello all');
    assert.deepEqual([reply.delivered, reply.skipped], [2, 0]);
    for (const [m] of await arrivals) {
      assert.equal(m.kind, 'broadcast');
      assert.equal(m.to, null);
      assert.equal(m.body, 'hello all');
    }
    await pause(100);
    assert.equal(aliceGot.length, 0, 'the sender does not get their own broadcast back');

    // dave was offline: a broadcast to everyone is not kept for him.
    const dave = await t.connect();
    const daveGot = collect(dave, 'message');
    await dave.login('dave', 'dave-pw');
    await pause(150);
    assert.equal(daveGot.length, 0);
    for (const c of [alice, bob, carol, dave]) c.close();
  });

  test("a broadcast to many sessions (sent through rooms) reaches each once, and the sender's other windows", async () => {
    // Two windows each for bob, carol and dave, and a second one for alice: more than a few sessions.
    const sessions = await Promise.all(['alice', 'bob', 'bob', 'carol', 'carol', 'dave', 'dave', 'alice'].map((u) => t.signIn(u)));
    const [sender, ...others] = sessions;
    const got = others.map((c) => collect(c!, 'message'));
    const senderGot = collect(sender!, 'message');
    const reply = await sender!.broadcast('to the rooms');
    assert.equal(reply.delivered, 3);
    await eventually(() => got.every((g) => g.length === 1), 3000, 'every other session has it');
    await pause(100);
    assert.deepEqual(
      got.map((g) => g.map(([m]) => m.body)),
      others.map(() => ['to the rooms']),
    );
    assert.equal(senderGot.length, 0, 'not back to the window it was sent from');
    for (const c of sessions) c!.close();
  });

  test('"broadcast user" reaches the users named, online now or later', async () => {
    const [alice, bob, carol] = await Promise.all([t.signIn('alice'), t.signIn('bob'), t.signIn('carol')]);
    const carolGot = collect(carol, 'message');
    const bobGets = next(bob, 'message');
    const reply = await alice.broadcast('for bob and dave', ['bob', 'dave']);
    assert.equal(reply.delivered, 2);
    assert.equal((await bobGets)[0].body, 'for bob and dave');

    const dave = await t.connect();
    const daveGets = next(dave, 'message');
    await dave.login('dave', 'dave-pw');
    assert.equal((await daveGets)[0].body, 'for bob and dave');
    await pause(100);
    assert.equal(carolGot.length, 0);
    await assert.rejects(alice.broadcast('x', ['bob', 'nobody']), { code: 'UNKNOWN_USER', message: /"nobody"/ });
    const tooMany = Array.from({ length: 101 }, (_, i) => `u${i}`);
    await assert.rejects(alice.broadcast('x', tooMany), { code: 'TOO_MANY_RECIPIENTS', message: /at most 100 users/ });
    const bobOnce = collect(bob, 'message');
    const twice = await alice.broadcast('named twice', ['bob', 'bob']);
    assert.equal(twice.delivered, 1);
    await eventually(() => bobOnce.length === 1);
    await pause(100);
    assert.equal(bobOnce.length, 1, 'a name given twice is sent to once');
    for (const c of [alice, bob, carol, dave]) c.close();
  });

  test('errors: a body too long or only white space, in both forms', async () => {
    const alice = await t.signIn('alice');
    const tooLong = 'x'.repeat(4001);
    await assert.rejects(alice.broadcast(tooLong), { code: 'TOO_LONG', message: /at most 4000 characters/ });
    await assert.rejects(alice.broadcast(tooLong, ['bob']), { code: 'TOO_LONG', message: /at most 4000 characters/ });
    await assert.rejects(alice.broadcast(' \n '), { code: 'BAD_REQUEST', message: /cannot be empty/ });
    alice.close();
  });
});

describe('blocking', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'] });
  });
  after(() => t.close());

  test('a blocked user cannot message the blocker and is told so; nothing is delivered', async () => {
    const [alice, bob] = await Promise.all([t.signIn('alice'), t.signIn('bob')]);
    const bobGot = collect(bob, 'message');
    await bob.block('alice');
    await assert.rejects(alice.message('bob', 'let me in'), {
      code: 'BLOCKED',
      message: 'Your message could not be delivered as bob has blocked you.',
    });
    // Nor later, when bob signs in again.
    bob.close();
    await pause(50);
    await assert.rejects(alice.message('bob', 'offline try'), { code: 'BLOCKED' });
    const bob2 = await t.connect();
    const later = collect(bob2, 'message');
    await bob2.login('bob', 'bob-pw');
    await pause(150);
    assert.equal(bobGot.length + later.length, 0);
    await bob2.unblock('alice');
    const arrives = next(bob2, 'message');
    await alice.message('bob', 'unblocked now');
    assert.equal((await arrives)[0].body, 'unblocked now');
    alice.close();
    bob2.close();
  });

  test('a retried send stored before the block keeps its first answer; a new one is refused', async () => {
    const [alice, bob] = await Promise.all([t.signIn('alice'), t.signIn('bob')]);
    const payload = { to: 'bob', body: 'sent before the block', clientMsgId: 'before-block' };
    const first = await alice.request('message', payload);
    await bob.block('alice');
    const retried = await alice.request('message', payload); // as if the first answer had been lost
    assert.deepEqual([retried.id, retried.sentAt], [first.id, first.sentAt]);
    await assert.rejects(alice.request('message', { ...payload, clientMsgId: 'after-block' }), { code: 'BLOCKED' });
    await bob.unblock('alice');
    alice.close();
    bob.close();
  });

  test('a broadcast skips users who blocked the sender and says some could not receive it', async () => {
    const [alice, bob, carol] = await Promise.all([t.signIn('alice'), t.signIn('bob'), t.signIn('carol')]);
    await carol.block('alice');
    const carolGot = collect(carol, 'message');
    const bobGets = next(bob, 'message');
    const reply = await alice.broadcast('hi everyone');
    assert.deepEqual([reply.delivered, reply.skipped], [1, 1]);
    await bobGets;
    const named = await alice.broadcast('named', ['bob', 'carol']);
    assert.deepEqual([named.delivered, named.skipped], [1, 1]);
    await pause(100);
    assert.equal(carolGot.length, 0);
    await carol.unblock('alice');
    for (const c of [alice, bob, carol]) c.close();
  });

  test('the blocker does not see the blocked user come and go, and whoelse hides them both ways', async () => {
    const carol = await t.signIn('carol');
    await carol.block('bob');
    const notices = collect(carol, 'presence');
    const bob = await t.signIn('bob');
    assert.deepEqual((await bob.whoelse()).users, []);
    assert.deepEqual((await carol.whoelse()).users, []);
    const alice = await t.signIn('alice');
    await eventually(() => notices.length === 1);
    bob.close();
    await pause(100);
    assert.deepEqual(
      notices.map(([e]) => e.username),
      ['alice'],
    );
    await carol.unblock('bob');
    alice.close();
    carol.close();
  });

  test('the blocked user does not see the blocker come and go either; login, whoelse and wholast hide each from the other', async () => {
    const alice = await t.signIn('alice'); // sees everyone: proof that the events hidden from bob were sent at all
    const carolEarlier = await t.signIn('carol');
    await carolEarlier.block('bob');
    const carolLeft = next(alice, 'presence', (e) => e.username === 'carol' && !e.online);
    carolEarlier.close();
    await carolLeft;

    const bob = await t.signIn('bob');
    const bobHears = collect(bob, 'presence');
    const carolBack = next(alice, 'presence', (e) => e.username === 'carol' && e.online);
    const carol = await t.connect();
    assert.deepEqual((await carol.login('carol', 'carol-pw')).online, ['alice'], "carol's login does not list bob");
    await carolBack;
    const bobAgain = await t.connect();
    assert.deepEqual((await bobAgain.login('bob', 'bob-pw')).online, ['alice'], "bob's login does not list carol");
    bobAgain.close();
    assert.deepEqual((await bob.whoelse()).users, ['alice']);
    assert.deepEqual((await carol.whoelse()).users, ['alice']);
    assert.deepEqual((await carol.wholast(5)).users, ['alice']);

    const carolGone = next(alice, 'presence', (e) => e.username === 'carol' && !e.online);
    carol.close();
    await carolGone;
    assert.deepEqual((await bob.wholast(5)).users, ['alice'], 'carol was seen a moment ago, but not by bob');
    // Presence events keep their order: once bob hears that alice left, whatever was sent to him about carol has arrived.
    alice.close();
    await next(bob, 'presence', (e) => e.username === 'alice' && !e.online);
    assert.deepEqual(
      bobHears.filter(([e]) => e.username === 'carol'),
      [],
      'bob heard nothing about carol',
    );
    const carolAgain = await t.signIn('carol');
    await carolAgain.unblock('bob');
    carolAgain.close();
    bob.close();
  });

  test('blocking hides both users from each other at once, and unblocking shows them again', async () => {
    const alice = await t.signIn('alice');
    const bobCame = next(alice, 'presence', (e) => e.username === 'bob' && e.online);
    const bob = await t.signIn('bob');
    await bobCame; // the sign-in's own batch, which must not be taken for what the block shows
    const aliceSees = next(alice, 'presence', (e) => e.username === 'bob');
    const bobSees = next(bob, 'presence', (e) => e.username === 'alice');
    await bob.block('alice');
    assert.equal((await aliceSees)[0].online, false);
    assert.equal((await bobSees)[0].online, false);
    const aliceSeesAgain = next(alice, 'presence', (e) => e.username === 'bob');
    const bobSeesAgain = next(bob, 'presence', (e) => e.username === 'alice');
    await bob.unblock('alice');
    assert.equal((await aliceSeesAgain)[0].online, true);
    assert.equal((await bobSeesAgain)[0].online, true);
    alice.close();
    bob.close();
  });

  test('errors: blocking yourself, an unknown user, unblocking someone not blocked; blocklist lists them', async () => {
    const alice = await t.signIn('alice');
    await assert.rejects(alice.block('alice'), { code: 'SELF' });
    await assert.rejects(alice.block('nobody'), { code: 'UNKNOWN_USER' });
    await assert.rejects(alice.unblock('bob'), { code: 'NOT_BLOCKED' });
    await alice.block('carol');
    await alice.block('bob');
    await alice.block('bob');
    assert.deepEqual((await alice.blocklist()).users, ['bob', 'carol']);
    await alice.unblock('bob');
    await alice.unblock('carol');
    alice.close();
  });
});
