import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GENEROUS_RATES } from './helpers/channels';
import { startServer, type TestServer } from './helpers/server';

// A read position stops at the conversation's newest message: moving it far ahead must not reveal how many
// messages the server has stored for others.
describe('a read position in a direct conversation or the broadcasts', () => {
  let t: TestServer;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'mallory'], ...GENEROUS_RATES });
  });
  after(() => t.close());

  test('stops at the newest message of that conversation, not the server’s', async () => {
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    const mallory = await t.signIn('mallory');
    const huge = 1_000_000;
    await alice.message('bob', 'between alice and bob');
    await alice.post('general', 'in general');
    assert.equal((await mallory.request('read', { conversation: { with: 'alice' }, upTo: huge })).upTo, 0);
    assert.equal((await mallory.request('read', { conversation: { broadcasts: true }, upTo: huge })).upTo, 0);

    const sent = await alice.message('mallory', 'hello mallory');
    await alice.message('bob', 'more for bob');
    assert.equal((await mallory.request('read', { conversation: { with: 'alice' }, upTo: huge })).upTo, sent.id);
    const last = await bob.message('alice', 'back to alice');
    assert.equal((await bob.request('read', { conversation: { with: 'alice' }, upTo: huge })).upTo, last.id);
  });
});
