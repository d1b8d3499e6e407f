import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LIMITS, type ChannelEvent } from '../src/protocol';
import { channelMessages, GENEROUS_RATES, postMany, stateOf, pause } from './helpers/channels';
import { collect, eventually, next, PER_NODE_LIMIT, startServer, type TestServer } from './helpers/server';

describe('channels: catching up and read positions', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'], ...GENEROUS_RATES });
  });
  after(() => t.close());

  test('a member offline while 50 messages are posted finds them unread, and reads them in order and once', async () => {
    const alice = await t.signIn('alice');
    await alice.request('createchannel', { name: 'builds' });
    const bob = await t.signIn('bob');
    await bob.request('join', { channel: 'builds' });
    bob.close();

    await postMany(alice, 'builds', 50);

    const back = await t.connect();
    const live = collect(back, 'message');
    await back.login('bob', 'bob-pw');
    const state = await stateOf(back, 'builds');
    assert.deepEqual(
      state && { lastSeq: state.lastSeq, readSeq: state.readSeq, unread: state.unread, mentions: state.mentions, member: state.member },
      { lastSeq: 50, readSeq: 0, unread: 50, mentions: 0, member: true },
    );
    const page = await back.request('history', { channel: 'builds', limit: 50 });
    assert.equal(page.more, false);
    assert.deepEqual(
      page.messages.map((m) => [m.seq, m.body, m.from, m.kind, m.channel]),
      Array.from({ length: 50 }, (_, i) => [i + 1, `m${i}`, 'alice', 'channel', 'builds']),
    );
    // Pages by seq: the 20 before seq 21, and then nothing before seq 1.
    const older = await back.request('history', { channel: 'builds', before: 21, limit: 20 });
    assert.deepEqual(
      older.messages.map((m) => m.seq),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.equal(older.more, false);
    assert.equal((await back.request('history', { channel: 'builds', before: 31, limit: 20 })).more, true);
    await pause(100);
    assert.deepEqual(channelMessages(live, 'builds'), [], 'what was posted while away comes from history, not replayed');

    const read = await back.request('read', { conversation: { channel: 'builds' }, upTo: 50 });
    assert.equal(read.upTo, 50);
    assert.equal((await stateOf(back, 'builds'))?.unread, 0);
    alice.close();
    back.close();
  });

  test('reading in one session clears the other: the read event, and conversations after', async () => {
    const alice = await t.signIn('alice');
    await alice.request('createchannel', { name: 'reviews' });
    const window1 = await t.signIn('carol');
    const window2 = await t.signIn('carol');
    await window1.request('join', { channel: 'reviews' });
    await postMany(alice, 'reviews', 3);
    assert.equal((await stateOf(window2, 'reviews'))?.unread, 3);

    const told = next(window2, 'read');
    const mine = collect(window1, 'read');
    assert.equal((await window1.request('read', { conversation: { channel: 'reviews' }, upTo: 2 })).upTo, 2);
    const [event] = await told;
    assert.deepEqual(event, { conversation: { channel: 'reviews' }, upTo: 2 });
    assert.deepEqual(await stateOf(window2, 'reviews').then((s) => [s?.readSeq, s?.unread]), [2, 1]);

    // Forward only, and never past the newest message.
    assert.equal((await window2.request('read', { conversation: { channel: 'reviews' }, upTo: 1 })).upTo, 2);
    assert.equal((await window2.request('read', { conversation: { channel: 'reviews' }, upTo: 999 })).upTo, 3);
    await eventually(() => mine.some(([e]) => e.upTo === 3), 3000, 'the first window told');
    assert.equal((await stateOf(window1, 'reviews'))?.unread, 0);
    alice.close();
    window1.close();
    window2.close();
  });

  test('direct conversations and broadcasts have read positions and unread counts too', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    const first = await alice.message('bob', 'one');
    const second = await alice.message('bob', 'two');
    const shout = await alice.broadcast('everyone online');
    await pause(100); // bob's client acknowledges: received is not read
    const before = await bob.request('conversations', {});
    const withAlice = before.directs.find((d) => d.with === 'alice');
    assert.ok(withAlice);
    assert.ok(withAlice.lastId >= second.id);
    assert.equal(withAlice.unread - 0, withAlice.unread);
    const unreadBefore = withAlice.unread;
    assert.ok(unreadBefore >= 2);
    assert.equal(before.broadcasts.with, null);
    assert.ok(before.broadcasts.lastId >= shout.id);

    const other = await t.signIn('bob');
    const told = next(other, 'read');
    await bob.request('read', { conversation: { with: 'alice' }, upTo: first.id });
    assert.deepEqual((await told)[0], { conversation: { with: 'alice' }, upTo: first.id });
    const after1 = (await other.request('conversations', {})).directs.find((d) => d.with === 'alice');
    assert.equal(after1?.readId, first.id);
    assert.equal(after1?.unread, 1);
    await bob.request('read', { conversation: { broadcasts: true }, upTo: shout.id });
    const after2 = await other.request('conversations', {});
    assert.equal(after2.broadcasts.readId, shout.id);
    assert.equal(after2.broadcasts.unread, 0);
    await assert.rejects(bob.request('read', { conversation: { with: 'nobody' }, upTo: 1 }), { code: 'UNKNOWN_USER' });
    for (const c of [alice, bob, other]) c.close();
  });

  test('mentions of a member count while they are away, once per message, case as in names', async () => {
    const alice = await t.signIn('alice');
    await alice.request('createchannel', { name: 'mentions' });
    const carol = await t.signIn('carol');
    await carol.request('join', { channel: 'mentions' });
    carol.close();
    await alice.post('mentions', '@carol the build is green');
    await alice.post('mentions', 'thanks @carol and @carol again.');
    await alice.post('mentions', '@Carol is not carol, @bob is no member, email@carol is no mention');
    const back = await t.signIn('carol');
    const state = await stateOf(back, 'mentions');
    assert.deepEqual([state?.unread, state?.mentions], [3, 2]);
    const { messages } = await back.request('history', { channel: 'mentions' });
    assert.deepEqual(
      messages.map((m) => m.mentions),
      [['carol'], ['carol'], []],
    );
    await back.request('read', { conversation: { channel: 'mentions' }, upTo: 1 });
    assert.equal((await stateOf(back, 'mentions'))?.mentions, 1);
    alice.close();
    back.close();
  });
});

describe('channels: membership, rights and limits', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'dave'], ...GENEROUS_RATES });
  });
  after(() => t.close());

  test('#general exists with every account a member, and cannot be left, deleted, renamed or kicked from', async () => {
    await t.server.accounts.add('erin', 'erin-pw');
    const erin = await t.signIn('erin');
    const general = await stateOf(erin, 'general');
    assert.equal(general?.member, true);
    assert.equal(general?.members, 5);
    assert.equal(general?.creator, null);
    await assert.rejects(erin.request('leave', { channel: 'general' }), { code: 'FORBIDDEN' });
    await assert.rejects(erin.request('deletechannel', { channel: 'general' }), { code: 'FORBIDDEN' });
    await assert.rejects(erin.request('renamechannel', { channel: 'general', to: 'all' }), { code: 'FORBIDDEN' });
    await assert.rejects(erin.request('kick', { channel: 'general', username: 'bob' }), { code: 'FORBIDDEN' });
    await assert.rejects(erin.request('createchannel', { name: 'general' }), { code: 'CHANNEL_EXISTS' });
    assert.deepEqual((await erin.request('members', { channel: 'general' })).members, ['alice', 'bob', 'carol', 'dave', 'erin']);
    erin.close();
  });

  test('public channels: anyone lists, reads and joins; members post and set the topic; events reach the members', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    const created = await alice.request('createchannel', { name: 'ops', topic: 'on call' });
    assert.deepEqual(created.channel, {
      name: 'ops',
      topic: 'on call',
      private: false,
      creator: 'alice',
      members: 1,
      member: true,
      lastSeq: 0,
      readSeq: 0,
      unread: 0,
      mentions: 0,
    });
    await alice.post('ops', 'before bob');
    const listed = (await bob.request('channels', {})).channels.find((c) => c.name === 'ops');
    assert.deepEqual(listed, { name: 'ops', topic: 'on call', private: false, creator: 'alice', members: 1, member: false });
    assert.equal((await bob.request('history', { channel: 'ops' })).messages.length, 1, 'a public channel is readable by anyone');
    await assert.rejects(bob.post('ops', 'not yet'), { code: 'NOT_A_MEMBER' });
    await assert.rejects(bob.request('topic', { channel: 'ops', topic: 'mine' }), { code: 'NOT_A_MEMBER' });

    const aliceHears = next(alice, 'channel');
    const joined = await bob.request('join', { channel: 'ops' });
    assert.deepEqual(
      [joined.channel.lastSeq, joined.channel.readSeq, joined.channel.unread],
      [1, 1, 0],
      'a newcomer starts at the newest message',
    );
    const [event] = await aliceHears;
    assert.deepEqual([event.change, event.channel, event.username, event.by, event.state], ['joined', 'ops', 'bob', 'bob', undefined]);

    const bobGets = next(bob, 'message', (m) => m.kind === 'channel');
    const posted = await alice.post('ops', 'welcome @bob');
    const [m] = await bobGets;
    assert.deepEqual(m, {
      id: posted.id,
      from: 'alice',
      to: null,
      kind: 'channel',
      body: 'welcome @bob',
      sentAt: posted.sentAt,
      channel: 'ops',
      seq: 2,
      mentions: ['bob'],
    });
    assert.equal(posted.seq, 2);
    assert.equal(posted.delivered, 1);

    const topicHeard = next(alice, 'channel', (e) => e.change === 'topic');
    await bob.request('topic', { channel: 'ops', topic: 'incidents' });
    assert.equal((await topicHeard)[0].topic, 'incidents');

    const leftHeard = next(alice, 'channel', (e) => e.change === 'left');
    await bob.request('leave', { channel: 'ops' });
    assert.equal((await leftHeard)[0].username, 'bob');
    const quiet = collect(bob, 'message');
    await alice.post('ops', 'after bob left');
    await pause(100);
    assert.deepEqual(channelMessages(quiet, 'ops'), []);
    alice.close();
    bob.close();
  });

  test('only the creator renames, deletes and removes members; the one removed is told', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    const carol = await t.signIn('carol');
    await alice.request('createchannel', { name: 'design' });
    await bob.request('join', { channel: 'design' });
    await carol.request('join', { channel: 'design' });
    await alice.post('design', 'first');

    await assert.rejects(bob.request('renamechannel', { channel: 'design', to: 'art' }), { code: 'FORBIDDEN' });
    await assert.rejects(bob.request('deletechannel', { channel: 'design' }), { code: 'FORBIDDEN' });
    await assert.rejects(bob.request('kick', { channel: 'design', username: 'carol' }), { code: 'FORBIDDEN' });
    await assert.rejects(alice.request('kick', { channel: 'design', username: 'alice' }), { code: 'SELF' });
    await assert.rejects(alice.request('kick', { channel: 'design', username: 'dave' }), { code: 'NOT_A_MEMBER' });

    const removed = next(carol, 'channel');
    await alice.request('kick', { channel: 'design', username: 'carol' });
    const [kicked] = await removed;
    assert.deepEqual([kicked.change, kicked.username, kicked.by], ['removed', 'carol', 'alice']);
    await assert.rejects(carol.post('design', 'still here?'), { code: 'NOT_A_MEMBER' });

    await alice.request('createchannel', { name: 'taken' });
    await assert.rejects(alice.request('renamechannel', { channel: 'design', to: 'taken' }), { code: 'CHANNEL_EXISTS' });
    const renamed = next(bob, 'channel');
    await alice.request('renamechannel', { channel: 'design', to: 'art' });
    assert.deepEqual(
      (await renamed).map((e: ChannelEvent) => [e.change, e.channel, e.to]),
      [['renamed', 'design', 'art']],
    );
    await assert.rejects(bob.request('history', { channel: 'design' }), { code: 'NO_SUCH_CHANNEL' });
    const history = await bob.request('history', { channel: 'art' });
    assert.deepEqual(
      history.messages.map((m) => [m.body, m.channel, m.seq]),
      [['first', 'art', 1]],
    );

    const deleted = next(bob, 'channel');
    await alice.request('deletechannel', { channel: 'art' });
    assert.equal((await deleted)[0].change, 'deleted');
    await assert.rejects(bob.request('history', { channel: 'art' }), { code: 'NO_SUCH_CHANNEL' });
    assert.equal(await stateOf(bob, 'art'), undefined);
    // The name is free again, for a new channel with a history of its own.
    await bob.request('createchannel', { name: 'art' });
    assert.deepEqual((await bob.request('history', { channel: 'art' })).messages, []);
    for (const c of [alice, bob, carol]) c.close();
  });

  test('a removed account leaves its channels, which keep no creator, and a new account of its name is in none of them', async () => {
    await t.server.accounts.add('frank', 'frank-pw');
    const frank = await t.signIn('frank');
    const alice = await t.signIn('alice');
    await frank.request('createchannel', { name: 'franks' });
    await alice.request('join', { channel: 'franks' });
    await t.server.accounts.remove('frank');
    const state = await stateOf(alice, 'franks');
    assert.deepEqual([state?.creator, state?.members], [null, 1]);
    assert.deepEqual((await alice.request('members', { channel: 'franks' })).members, ['alice']);
    await t.server.accounts.add('frank', 'frank-pw');
    const newFrank = await t.signIn('frank');
    assert.deepEqual(
      (await newFrank.request('conversations', {})).channels.map((c) => c.name),
      ['general'],
    );
    await assert.rejects(newFrank.request('deletechannel', { channel: 'franks' }), { code: 'FORBIDDEN' });
    alice.close();
    newFrank.close();
  });

  test('creating channels is rate-limited per user, with a clear error', { skip: PER_NODE_LIMIT }, async () => {
    const dave = await t.signIn('dave');
    const other = await t.signIn('dave');
    for (let i = 0; i < LIMITS.channelCreateBurst; i++) await (i % 2 ? other : dave).request('createchannel', { name: `dave-${i}` });
    await assert.rejects(other.request('createchannel', { name: 'one-too-many' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'RATE_LIMITED');
      assert.match(err.message, /5 channels at once, then one every 60 seconds/);
      return true;
    });
    t.clock.advance(LIMITS.channelCreateEverySeconds * 1000);
    await dave.request('createchannel', { name: 'one-more' });
    await assert.rejects(dave.request('createchannel', { name: 'and-another' }), { code: 'RATE_LIMITED' });
    dave.close();
    other.close();
  });
});

describe('channels: malformed and oversized requests', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob'], ...GENEROUS_RATES });
  });
  after(() => t.close());

  test('get a clear error and change nothing', async () => {
    const alice = await t.signIn('alice');
    await alice.request('createchannel', { name: 'exact', topic: 'kept' });
    await alice.post('exact', 'the only message');
    const before = await alice.request('conversations', {});
    const listBefore = await alice.request('channels', {});

    const refusals: [string, Promise<unknown>, string, RegExp][] = [
      ['a body too long', alice.post('exact', 'x'.repeat(LIMITS.messageMax + 1)), 'TOO_LONG', /at most 4000/],
      [
        'a topic too long',
        alice.request('topic', { channel: 'exact', topic: 't'.repeat(LIMITS.channelTopicMax + 1) }),
        'TOO_LONG',
        /at most 250/,
      ],
      // UTF-16 units, as docs/protocol.md 2.4 counts: 126 emoji are 252.
      ['a topic of emoji too long', alice.request('topic', { channel: 'exact', topic: '🎉'.repeat(126) }), 'TOO_LONG', /at most 250/],
      ['a name with #', alice.request('post', { channel: '#exact', body: 'hi', clientMsgId: 'c1' }), 'BAD_REQUEST', /no "#"/],
      ['an uppercase name', alice.request('createchannel', { name: 'Exact2' }), 'BAD_REQUEST', /lowercase/],
      ['a name too long', alice.request('createchannel', { name: 'x'.repeat(33) }), 'BAD_REQUEST', /1 to 32/],
      ['an unknown field', alice.request('post', { channel: 'exact', body: 'hi', extra: 1 } as never), 'BAD_REQUEST', /extra/],
      ['a negative read', alice.request('read', { conversation: { channel: 'exact' }, upTo: -1 }), 'BAD_REQUEST', /upTo/],
      [
        'two conversations',
        alice.request('read', { conversation: { channel: 'exact', with: 'bob' } as never, upTo: 1 }),
        'BAD_REQUEST',
        /conversation/,
      ],
      ['history of both', alice.request('history', { channel: 'exact', with: 'bob' }), 'BAD_REQUEST', /not both/],
      ['a NUL in a body', alice.post('exact', 'a\u0000b'), 'BAD_REQUEST', /NUL/],
      ['a channel that does not exist', alice.post('nowhere', 'hello'), 'NO_SUCH_CHANNEL', /There is no channel #nowhere/],
    ];
    for (const [what, request, code, message] of refusals) {
      await assert.rejects(request, (err: Error & { code?: string }) => {
        assert.equal(err.code, code, what);
        assert.match(err.message, message, what);
        return true;
      });
    }
    assert.deepEqual(await alice.request('conversations', {}), before);
    assert.deepEqual(await alice.request('channels', {}), listBefore);
    alice.close();
  });

  test('a retried post is stored once and answered as the first time', async () => {
    const alice = await t.signIn('alice');
    await alice.request('createchannel', { name: 'retries' });
    const first = await alice.request('post', { channel: 'retries', body: 'once', clientMsgId: 'same-id' });
    const again = await alice.request('post', { channel: 'retries', body: 'once', clientMsgId: 'same-id' });
    assert.deepEqual([again.id, again.seq, again.sentAt], [first.id, first.seq, first.sentAt]);
    assert.equal((await alice.request('history', { channel: 'retries' })).messages.length, 1);
    alice.close();
  });
});
