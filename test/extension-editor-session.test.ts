import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { EditorSession } from '../src/extension/core/editor-session';
import { startServer, type TestServer } from './helpers/server';

describe('the editor session keeps the server’s answer to what a command sent', () => {
  let t: TestServer;
  const sessions: EditorSession[] = [];
  const open = async (username: string): Promise<EditorSession> => {
    const session = new EditorSession({ client: { requestTimeoutMs: 3000 }, now: () => t.clock.now });
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

  test('a broadcast’s counts and a direct message’s recipient, by the id of the message execute returns, once', async () => {
    const alice = await open('alice');
    await t.signIn('bob');
    const toAll = await alice.execute('everyone', { name: 'broadcast', body: 'hello all' });
    const toCarol = await alice.execute('everyone', { name: 'broadcast', body: 'for carol', to: ['carol'] });
    const toBob = await alice.execute('everyone', { name: 'message', to: 'bob', body: 'hi bob' });
    const toCarolDirect = await alice.execute('everyone', { name: 'message', to: 'carol', body: 'hi carol' });
    assert.ok(toAll.kind === 'sent' && toCarol.kind === 'sent' && toBob.kind === 'sent' && toCarolDirect.kind === 'sent');

    assert.deepEqual(alice.broadcastReply(toAll.message.id), { delivered: 1, skipped: 0, queueFull: [] });
    assert.equal(alice.broadcastReply(toAll.message.id), undefined, 'taken once');
    const named = alice.broadcastReply(toCarol.message.id);
    assert.equal(named?.delivered, 1, 'carol is offline: kept for her');
    assert.equal(alice.recipientOnline(toBob.message.id), true);
    assert.equal(alice.recipientOnline(toCarolDirect.message.id), false);
    // A broadcast's answer is not a direct message's.
    assert.equal(alice.recipientOnline(toAll.message.id), undefined);
  });
});
