import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LIMITS } from '../src/protocol';
import { GENEROUS_RATES, pause, stateOf } from './helpers/channels';
import { collect, PER_NODE_LIMIT, startServer, type TestServer } from './helpers/server';

/** Generous but for channel changes, which keep their default limit here. */
const { channelChangeRate: _generousChanges, ...RATES } = GENEROUS_RATES;

const refusedFor = (code: string, message: RegExp) => (err: Error & { code?: string }) => {
  assert.equal(err.code, code);
  assert.match(err.message, message);
  return true;
};

describe('channels: limits on guessing and flooding', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'mallory', 'oscar', 'peggy'], ...RATES });
  });
  after(() => t.close());

  test('renaming takes from the budget of creating, refused renames too, so private names cannot be guessed faster', async () => {
    const alice = await t.signIn('alice');
    await alice.request('createchannel', { name: 'layoffs', private: true });
    const mallory = await t.signIn('mallory');
    await mallory.request('createchannel', { name: 'probe' });
    for (let i = 1; i < LIMITS.channelCreateBurst; i++) {
      await assert.rejects(mallory.request('renamechannel', { channel: 'probe', to: 'layoffs' }), { code: 'CHANNEL_EXISTS' });
    }
    // Spent: taken or free, the name is not looked at.
    for (const to of ['layoffs', 'free-name']) {
      await assert.rejects(
        mallory.request('renamechannel', { channel: 'probe', to }),
        refusedFor('RATE_LIMITED', /shares the limit of creating: 5 channels at once, then one every 60 seconds/),
      );
    }
    await assert.rejects(mallory.request('createchannel', { name: 'another' }), { code: 'RATE_LIMITED' });
    t.clock.advance(LIMITS.channelCreateEverySeconds * 1000);
    assert.deepEqual(await mallory.request('renamechannel', { channel: 'probe', to: 'free-name' }), {
      channel: 'probe',
      to: 'free-name',
    });
    await assert.rejects(mallory.request('createchannel', { name: 'another' }), { code: 'RATE_LIMITED' });
    alice.close();
    mallory.close();
  });

  test('channel changes are limited per user across sessions; a refused one changes nothing', { skip: PER_NODE_LIMIT }, async () => {
    const bob = await t.signIn('bob');
    await bob.request('createchannel', { name: 'lobby' });
    const oscar = await t.signIn('oscar');
    const other = await t.signIn('oscar');
    // Each kind counts, refused ones too.
    const changes = [
      () => oscar.request('join', { channel: 'lobby' }),
      () => other.request('topic', { channel: 'lobby', topic: 'one' }),
      () => oscar.request('invite', { channel: 'lobby', username: 'carol' }),
      () => other.request('leave', { channel: 'lobby' }),
      () => oscar.request('kick', { channel: 'lobby', username: 'carol' }).catch(() => undefined),
      () => other.request('renamechannel', { channel: 'lobby', to: 'mine' }).catch(() => undefined),
      () => oscar.request('join', { channel: 'no-such' }).catch(() => undefined),
      () => other.request('join', { channel: 'lobby' }),
      () => oscar.request('topic', { channel: 'general', topic: 'two' }),
      () => other.request('topic', { channel: 'lobby', topic: 'three' }),
    ];
    assert.equal(changes.length, LIMITS.channelChangeBurst);
    for (const change of changes) await change();
    const tooFast = refusedFor('RATE_LIMITED', /change channels .* 10 times at once, then once every 3 seconds; wait and try again/);
    await assert.rejects(oscar.request('topic', { channel: 'general', topic: 'defaced' }), tooFast);
    await assert.rejects(other.request('leave', { channel: 'lobby' }), tooFast);
    await assert.rejects(oscar.request('join', { channel: 'other' }), tooFast);
    assert.equal((await stateOf(bob, 'general'))?.topic, 'two');
    assert.equal((await stateOf(bob, 'lobby'))?.members, 3, 'bob, oscar and carol: the leave was refused');

    t.clock.advance(LIMITS.channelChangeEverySeconds * 1000);
    await oscar.request('topic', { channel: 'general', topic: 'four' });
    await assert.rejects(oscar.request('topic', { channel: 'general', topic: 'five' }), tooFast);
    assert.equal((await stateOf(bob, 'general'))?.topic, 'four');
    // Another user's budget is their own.
    await bob.request('topic', { channel: 'lobby', topic: 'bob was here' });
    for (const c of [bob, oscar, other]) c.close();
  });

  test('setting the topic it has already changes nothing and tells nobody', async () => {
    const peggy = await t.signIn('peggy');
    const carol = await t.signIn('carol');
    await peggy.request('createchannel', { name: 'quiet', topic: 'same' });
    await carol.request('join', { channel: 'quiet' });
    const heard = collect(carol, 'channel');
    const again = await peggy.request('topic', { channel: 'quiet', topic: 'same' });
    assert.equal(again.channel.topic, 'same');
    await peggy.request('topic', { channel: 'quiet', topic: 'new' });
    await pause(100);
    assert.deepEqual(
      heard.map(([e]) => [e.change, e.topic]),
      [['topic', 'new']],
    );
    peggy.close();
    carol.close();
  });
});

describe('channels: removed accounts and read events', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'], ...GENEROUS_RATES });
  });
  after(() => t.close());

  test("removing a private channel's last member deletes it, and frees its name", async () => {
    await t.server.accounts.add('zed', 'zed-pw');
    const zed = await t.signIn('zed');
    await zed.request('createchannel', { name: 'zonly', private: true });
    await zed.post('zonly', 'zed alone');
    // A private channel with another member stays.
    await zed.request('createchannel', { name: 'shared', private: true });
    await zed.request('invite', { channel: 'shared', username: 'alice' });
    await t.server.accounts.remove('zed');

    const bob = await t.signIn('bob');
    const created = await bob.request('createchannel', { name: 'zonly' });
    assert.deepEqual([created.channel.lastSeq, created.channel.members], [0, 1]);
    assert.equal((await bob.post('zonly', 'fresh')).seq, 1);
    assert.deepEqual(
      (await bob.request('history', { channel: 'zonly' })).messages.map((m) => m.body),
      ['fresh'],
    );
    const alice = await t.signIn('alice');
    assert.deepEqual((await alice.request('members', { channel: 'shared' })).members, ['alice']);
    bob.close();
    alice.close();

    // Gone from the database too.
    await t.stop();
    const again = await startServer({ dataDir: t.dataDir, ...GENEROUS_RATES });
    t = again;
    const carol = await t.signIn('carol');
    assert.deepEqual(
      (await carol.request('channels', {})).channels.map((c) => [c.name, c.creator]),
      [
        ['general', null],
        ['zonly', 'bob'],
      ],
    );
    carol.close();
  });

  test("a read that does not move the position tells none of the user's other sessions", async () => {
    const alice = await t.signIn('alice');
    await alice.request('createchannel', { name: 'reads' });
    const first = await alice.message('bob', 'one');
    const window1 = await t.signIn('bob');
    const window2 = await t.signIn('bob');
    await window1.request('join', { channel: 'reads' });
    for (let i = 0; i < 3; i++) await alice.post('reads', `m${i}`);
    const told = collect(window2, 'read');

    for (const upTo of [2, 2, 1, 0, 3, 3, 999]) await window1.request('read', { conversation: { channel: 'reads' }, upTo });
    for (const upTo of [first.id, first.id, 0]) await window1.request('read', { conversation: { with: 'alice' }, upTo });
    await pause(100);
    assert.deepEqual(
      told.map(([e]) => e),
      [
        { conversation: { channel: 'reads' }, upTo: 2 },
        { conversation: { channel: 'reads' }, upTo: 3 },
        { conversation: { with: 'alice' }, upTo: first.id },
      ],
    );
    for (const c of [alice, window1, window2]) c.close();
  });
});
