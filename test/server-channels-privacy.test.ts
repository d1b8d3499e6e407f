import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { channelMessages, GENEROUS_RATES, oldSession, stateOf, pause } from './helpers/channels';
import { collect, eventually, next, startServer, type TestServer } from './helpers/server';

describe('private channels', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'mallory'], ...GENEROUS_RATES });
  });
  after(() => t.close());

  test("a private channel's messages never reach a non-member: live, history, members, its name, join", async () => {
    const alice = await t.signIn('alice');
    const mallory = await t.signIn('mallory');
    const heard = collect(mallory, 'message');
    const told = collect(mallory, 'channel');
    await alice.request('createchannel', { name: 'secret', private: true });
    await alice.post('secret', 'the plan');

    const refusedAsMissing = async (request: Promise<unknown>, what: string): Promise<void> => {
      await assert.rejects(request, (err: Error & { code?: string }) => {
        assert.equal(err.code, 'NO_SUCH_CHANNEL', what);
        assert.equal(err.message, 'There is no channel #secret.', `${what}: the same words as for a channel that does not exist`);
        return true;
      });
    };
    await refusedAsMissing(mallory.request('history', { channel: 'secret' }), 'history');
    await refusedAsMissing(mallory.request('members', { channel: 'secret' }), 'members');
    await refusedAsMissing(mallory.request('join', { channel: 'secret' }), 'join');
    await refusedAsMissing(mallory.post('secret', 'let me in'), 'post');
    await refusedAsMissing(mallory.request('read', { conversation: { channel: 'secret' }, upTo: 1 }), 'read');
    await refusedAsMissing(mallory.request('topic', { channel: 'secret', topic: 'mine' }), 'topic');
    await refusedAsMissing(mallory.request('invite', { channel: 'secret', username: 'mallory' }), 'invite');
    await refusedAsMissing(mallory.request('leave', { channel: 'secret' }), 'leave');
    await refusedAsMissing(mallory.request('kick', { channel: 'secret', username: 'alice' }), 'kick');
    await refusedAsMissing(mallory.request('renamechannel', { channel: 'secret', to: 'mine' }), 'rename');
    await refusedAsMissing(mallory.request('deletechannel', { channel: 'secret' }), 'delete');
    await assert.rejects(mallory.request('members', { channel: 'nosuch' }), { message: 'There is no channel #nosuch.' });
    assert.equal(
      (await mallory.request('channels', {})).channels.find((c) => c.name === 'secret'),
      undefined,
    );
    assert.equal(await stateOf(mallory, 'secret'), undefined);
    await pause(100);
    assert.deepEqual(channelMessages(heard, 'secret'), []);
    assert.deepEqual(told, []);
    assert.deepEqual(
      (await mallory.request('history', {})).messages.filter((m) => m.kind === 'channel'),
      [],
    );
    alice.close();
    mallory.close();
  });

  test('members add members, who see the history; the added one is told with their state', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    await alice.request('createchannel', { name: 'inner', private: true, topic: 'few' });
    await alice.post('inner', 'before bob');
    await assert.rejects(bob.request('invite', { channel: 'inner', username: 'mallory' }), { code: 'NO_SUCH_CHANNEL' });
    const added = next(bob, 'channel');
    await alice.request('invite', { channel: 'inner', username: 'bob' });
    const [event] = await added;
    assert.deepEqual(
      [event.change, event.username, event.by, event.state?.name, event.state?.private],
      ['added', 'bob', 'alice', 'inner', true],
    );
    assert.deepEqual(
      (await bob.request('history', { channel: 'inner' })).messages.map((m) => m.body),
      ['before bob'],
    );
    const aliceHears = next(alice, 'channel');
    await bob.request('invite', { channel: 'inner', username: 'mallory' });
    assert.deepEqual(
      (await aliceHears).map((e) => [e.change, e.username, e.by]),
      [['added', 'mallory', 'bob']],
    );
    assert.deepEqual((await alice.request('members', { channel: 'inner' })).members, ['alice', 'bob', 'mallory']);
    alice.close();
    bob.close();
  });

  test('a private channel that its last member leaves is gone, and its name free', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    await alice.request('createchannel', { name: 'brief', private: true });
    await alice.post('brief', 'soon gone');
    await alice.request('invite', { channel: 'brief', username: 'bob' });
    await alice.request('leave', { channel: 'brief' });
    assert.deepEqual((await bob.request('history', { channel: 'brief' })).messages.length, 1, 'kept while a member is left');
    await bob.request('leave', { channel: 'brief' });
    await assert.rejects(alice.request('history', { channel: 'brief' }), { code: 'NO_SUCH_CHANNEL' });
    const again = await alice.request('createchannel', { name: 'brief' });
    assert.deepEqual([again.channel.private, again.channel.lastSeq], [false, 0]);
    alice.close();
    bob.close();
  });
});

describe('blocks inside channels', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'], ...GENEROUS_RATES });
  });
  after(() => t.close());

  test('between a blocked pair neither sees the other, live, in history, in unread or mentions; unblocking shows them again', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    const carol = await t.signIn('carol');
    await alice.request('createchannel', { name: 'team' });
    await bob.request('join', { channel: 'team' });
    await carol.request('join', { channel: 'team' });
    await bob.block('alice');

    const toBob = collect(bob, 'message');
    const toAlice = collect(alice, 'message');
    const carolGets = collect(carol, 'message');
    await alice.post('team', 'from alice to @bob');
    await bob.post('team', 'from bob to @alice');
    await carol.post('team', 'from carol to @bob and @alice');
    await eventually(() => channelMessages(carolGets, 'team').length === 2, 3000, 'carol gets both');
    await pause(100);
    assert.deepEqual(
      channelMessages(toBob, 'team').map((m) => m.body),
      ['from carol to @bob and @alice'],
      'bob: not alice, live',
    );
    assert.deepEqual(
      channelMessages(toAlice, 'team').map((m) => m.body),
      ['from carol to @bob and @alice'],
      'alice: not bob, live (the block is symmetric)',
    );

    const bodies = async (client: typeof alice) => (await client.request('history', { channel: 'team' })).messages.map((m) => m.body);
    assert.deepEqual(await bodies(bob), ['from bob to @alice', 'from carol to @bob and @alice']);
    assert.deepEqual(await bodies(alice), ['from alice to @bob', 'from carol to @bob and @alice']);
    assert.deepEqual(await bodies(carol), ['from alice to @bob', 'from bob to @alice', 'from carol to @bob and @alice']);
    const counts = async (client: typeof alice) => stateOf(client, 'team').then((s) => [s?.unread, s?.mentions]);
    assert.deepEqual(await counts(bob), [1, 1], "bob: only carol's message and mention");
    assert.deepEqual(await counts(alice), [1, 1], "alice: only carol's message and mention");

    await bob.unblock('alice');
    assert.deepEqual(await bodies(bob), ['from alice to @bob', 'from bob to @alice', 'from carol to @bob and @alice']);
    assert.deepEqual(await bodies(alice), ['from alice to @bob', 'from bob to @alice', 'from carol to @bob and @alice']);
    assert.deepEqual(await counts(bob), [2, 2]);
    assert.deepEqual(await counts(alice), [2, 2]);
    const live = next(bob, 'message', (m) => m.kind === 'channel');
    await alice.post('team', 'after the unblock');
    assert.equal((await live)[0].body, 'after the unblock');
    for (const c of [alice, bob, carol]) c.close();
  });

  test('a blocked pair cannot add each other to a channel', async () => {
    const alice = await t.signIn('alice');
    await alice.request('createchannel', { name: 'closed', private: true });
    await alice.block('carol');
    await assert.rejects(alice.request('invite', { channel: 'closed', username: 'carol' }), { code: 'BLOCKED' });
    await alice.unblock('carol');
    alice.close();
  });
});

describe('clients of protocol 1 and 2 against a server with channels', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'old1', 'old2'], ...GENEROUS_RATES });
  });
  after(() => t.close());

  for (const protocol of [1, 2] as const) {
    test(`protocol ${protocol}: direct messages and broadcasts as before, never a channel message or event`, async () => {
      const alice = await t.signIn('alice');
      const bob = `old${protocol}`;
      const old = await oldSession(t, bob, protocol);
      // The same user in a protocol 3 window too: what it posts must not reach its older session either.
      const bob3 = await t.signIn(bob);
      await alice.request('createchannel', { name: `room-${protocol}` });
      await bob3.request('join', { channel: `room-${protocol}` });
      const bob3Gets = collect(bob3, 'message');
      await alice.post('general', 'to everyone in general');
      await alice.post(`room-${protocol}`, 'to the room');
      await bob3.post(`room-${protocol}`, 'bob from the new client');
      const direct = await alice.message(bob, 'a direct message');
      const shout = await alice.broadcast('a broadcast');
      await eventually(() => old.messages.length === 2, 3000, 'the direct message and the broadcast');
      await eventually(() => channelMessages(bob3Gets, `room-${protocol}`).length === 1, 3000, 'the new client gets the room');
      await pause(100);
      assert.deepEqual(
        old.messages.map((m) => [m.id, m.kind, m.body]),
        [
          [direct.id, 'direct', 'a direct message'],
          [shout.id, 'broadcast', 'a broadcast'],
        ],
      );
      assert.deepEqual(
        old.events.filter((e) => e === 'channel' || e === 'read'),
        [],
      );
      const history = await old.ask('history', {});
      assert.ok(history.ok);
      const messages = (history as unknown as { messages: { kind: string }[] }).messages;
      assert.ok(messages.length >= 2);
      assert.deepEqual(
        messages.filter((m) => m.kind === 'channel'),
        [],
        'history without a channel has none, not even its own posts',
      );
      for (const [event, payload] of [
        ['post', { channel: 'general', body: 'hi', clientMsgId: 'x1' }],
        ['conversations', {}],
        ['read', { conversation: { broadcasts: true }, upTo: 1 }],
        ['join', { channel: 'general' }],
      ] as const) {
        const reply = await old.ask(event, payload);
        assert.deepEqual(reply, {
          ok: false,
          error: { code: 'BAD_REQUEST', message: `"${event}" needs protocol 3; this connection speaks ${protocol}.` },
        });
      }
      const channelHistory = await old.ask('history', { channel: 'general' });
      assert.equal(channelHistory.ok, false);
      old.socket.close();
      alice.close();
      bob3.close();
    });
  }
});
