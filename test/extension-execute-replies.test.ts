import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { ChatSession } from '../src/extension/core/chat-session';
import { startServer, type TestServer } from './helpers/server';

describe('what a command sent comes back with the server’s answer', () => {
  let t: TestServer;
  const sessions: ChatSession[] = [];
  const open = async (username: string): Promise<ChatSession> => {
    const session = new ChatSession({ client: { requestTimeoutMs: 3000 }, now: () => t.clock.now });
    sessions.push(session);
    await session.connect(t.url, username, `${username}-pw`);
    return session;
  };
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'] });
  });
  afterEach(() => {
    for (const s of sessions.splice(0)) s.dispose();
    for (const c of t.clients.splice(0)) c.close();
  });
  after(() => t.close());

  test('a broadcast’s counts and whether a direct message’s recipient is online', async () => {
    const alice = await open('alice');
    await t.signIn('bob');
    const toAll = await alice.execute('everyone', { name: 'broadcast', body: 'hello all' });
    const toCarol = await alice.execute('everyone', { name: 'broadcast', body: 'for carol', to: ['carol'] });
    const toBob = await alice.execute('everyone', { name: 'message', to: 'bob', body: 'hi bob' });
    const toCarolDirect = await alice.execute('everyone', { name: 'message', to: 'carol', body: 'hi carol' });
    assert.ok(toAll.kind === 'sent' && toCarol.kind === 'sent' && toBob.kind === 'sent' && toCarolDirect.kind === 'sent');

    assert.deepEqual(toAll.delivery, { delivered: 1, skipped: 0, queueFull: [] });
    assert.equal(toCarol.delivery?.delivered, 1, 'carol is offline: kept for her');
    assert.equal(toBob.online, true);
    assert.equal(toCarolDirect.online, false);
    // A broadcast's answer is not a direct message's.
    assert.equal(toAll.online, undefined);
    assert.equal(toBob.delivery, undefined);
  });
});
