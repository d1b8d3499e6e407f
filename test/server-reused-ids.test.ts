import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GENEROUS_RATES, pause } from './helpers/channels';
import { collect, startServer, type TestServer } from './helpers/server';

// A clientMsgId makes a retry safe (docs/protocol.md 6.5); reused for another kind of send, another recipient or
// another channel, it must not answer "sent" for a message that was never sent.
describe('a clientMsgId reused for another send', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'], ...GENEROUS_RATES });
  });
  after(() => t.close());

  test('is refused, and nothing is stored or delivered', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    await alice.request('createchannel', { name: 'other' });
    const got = collect(bob, 'message');

    const first = await alice.request('post', { channel: 'general', body: 'the first', clientMsgId: 'K1' });
    await assert.rejects(alice.request('message', { to: 'bob', body: 'a dm', clientMsgId: 'K1' }), { code: 'BAD_REQUEST' });
    await assert.rejects(alice.request('broadcast', { body: 'to all', clientMsgId: 'K1' }), { code: 'BAD_REQUEST' });
    await assert.rejects(alice.request('post', { channel: 'other', body: 'elsewhere', clientMsgId: 'K1' }), { code: 'BAD_REQUEST' });

    await alice.request('message', { to: 'bob', body: 'to bob', clientMsgId: 'K2' });
    await assert.rejects(alice.request('message', { to: 'carol', body: 'to carol', clientMsgId: 'K2' }), { code: 'BAD_REQUEST' });

    // A true retry still gets the first answer.
    const again = await alice.request('post', { channel: 'general', body: 'the first', clientMsgId: 'K1' });
    assert.deepEqual([again.id, again.seq], [first.id, first.seq]);

    await pause(200);
    assert.deepEqual(
      got.map(([m]) => m.body),
      ['the first', 'to bob'],
    );
    const carol = await t.signIn('carol');
    assert.deepEqual((await carol.history()).messages, []);
    const other = await alice.request('history', { channel: 'other' });
    assert.deepEqual(other.messages, []);
  });
});
