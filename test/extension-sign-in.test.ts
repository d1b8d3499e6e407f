import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ChatSession } from '../src/extension/core/chat-session';
import { Auth, type SecretStore } from '../src/extension/core/sign-in';
import { DEFAULT_TIMINGS } from '../src/server/options';
import { sessionFor } from './helpers/extension-session';
import { Accounts } from '../src/server/accounts';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import { countHashes, eventually, startServer, TEST_SCRYPT, type TestServer } from './helpers/server';
import { Answers, MemorySecrets } from './helpers/sign-in';

const tokenKey = (t: TestServer, username: string): string => `parley.token:${t.url}:${username}`;

/** A server with one user, and the editor's sign-in for that user; `close` ends them (the server, or the one given). */
async function editorFor(username: string) {
  const t = await startServer({ users: [username] });
  const session = sessionFor(t);
  const secrets = new MemorySecrets();
  const ui = new Answers({ url: t.url, username }, [`${username}-pw`]);
  const auth = new Auth(secrets, session, ui, ui.log);
  const close = async (server: TestServer = t): Promise<void> => {
    auth.dispose();
    session.dispose();
    await server.close();
  };
  return { t, session, secrets, ui, auth, close };
}

describe('signing in from the editor: the session token in the secret store', () => {
  let t: TestServer;
  const sessions: ChatSession[] = [];
  const auths: Auth[] = [];
  const make = (secrets: SecretStore, ui: Answers): { session: ChatSession; auth: Auth } => {
    const session = sessionFor(t);
    sessions.push(session);
    const auth = new Auth(secrets, session, ui, ui.log);
    auths.push(auth);
    return { session, auth };
  };

  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol', 'dave'] });
  });
  afterEach(() => {
    for (const a of auths.splice(0)) a.dispose();
    for (const s of sessions.splice(0)) s.dispose();
    for (const c of t.clients.splice(0)) c.close();
  });
  after(() => t.close());

  test('the password is asked once; the session token is kept in its place and signs the next window in without a password hash', async () => {
    const secrets = new MemorySecrets();
    const ui = new Answers({ url: t.url, username: 'alice' }, ['alice-pw']);
    const first = make(secrets, ui);
    assert.equal(await first.auth.signIn({ interactive: true }), 'alice');
    assert.deepEqual(ui.prompts, [`Password for alice on ${t.url}`]);
    const token = first.session.sessionToken?.token;
    assert.ok(token);
    assert.deepEqual([...secrets.values], [[tokenKey(t, 'alice'), token]], 'the token, not the password');
    assert.equal(first.session.state.connection.phase, 'signed-in');

    // The window closes (no sign-out) and another opens: signed in again without a question, even without prompts.
    first.session.dispose();
    const hashes = countHashes(t);
    const second = make(secrets, ui);
    assert.equal(await second.auth.signIn({ interactive: false }), 'alice');
    assert.equal(second.session.state.connection.phase, 'signed-in');
    assert.equal(ui.prompts.length, 1, 'asked once only');
    assert.equal(hashes.count, 0, 'no password was checked');
    ui.assertNeverShown('alice-pw', token);
  });

  test('a password kept by an earlier version signs in once and is replaced by a token', async () => {
    const secrets = new MemorySecrets();
    const ui = new Answers({ url: t.url, username: 'carol' });
    const { session, auth } = make(secrets, ui);
    await secrets.store(`parley.password:${t.url}:carol`, 'carol-pw');
    assert.equal(await auth.signIn({ interactive: false }), 'carol');
    assert.deepEqual([...secrets.values], [[tokenKey(t, 'carol'), session.sessionToken?.token]]);
  });

  test('a stored token the server refused is forgotten, and the password is asked for', async () => {
    const secrets = new MemorySecrets();
    const ui = new Answers({ url: t.url, username: 'bob' }, ['bob-pw']);
    const first = make(secrets, ui);
    assert.equal(await first.auth.signIn({ interactive: true }), 'bob');
    first.session.dispose();
    await t.server.store.deleteSessionTokensOf('bob');

    const second = make(secrets, ui);
    assert.equal(await second.auth.signIn({ interactive: false }), undefined, 'no token, no password: not without asking');
    assert.equal(secrets.values.size, 0, 'the refused token is gone');
    ui.passwords.push('bob-pw');
    assert.equal(await second.auth.signIn({ interactive: true }), 'bob');
    assert.equal(ui.prompts.length, 2);
    assert.deepEqual([...secrets.values.keys()], [tokenKey(t, 'bob')]);
  });

  test('signing out forgets the password: the next sign-in asks again', async () => {
    const secrets = new MemorySecrets();
    const ui = new Answers({ url: t.url, username: 'alice' }, ['alice-pw', 'alice-pw']);
    const { session, auth } = make(secrets, ui);
    assert.equal(await auth.signIn({ interactive: true }), 'alice');
    assert.equal(secrets.values.size, 1);
    await auth.signOut();
    assert.equal(session.state.connection.phase, 'signed-out');
    assert.equal(secrets.values.size, 0);
    assert.equal(await auth.signIn({ interactive: false }), undefined, 'nothing stored: no sign-in without asking');
    assert.equal(await auth.signIn({ interactive: true }), 'alice');
    assert.equal(ui.prompts.length, 2);
    ui.assertNeverShown('alice-pw');
  });

  test('a wrong password is forgotten; asking again says it was wrong', async () => {
    const secrets = new MemorySecrets();
    const ui = new Answers({ url: t.url, username: 'bob' }, ['bob-pw']);
    const { auth } = make(secrets, ui);
    await secrets.store(`parley.password:${t.url}:bob`, 'not-bobs-password');
    assert.equal(await auth.signIn({ interactive: false }), undefined);
    assert.equal(secrets.values.size, 0, 'the wrong password is gone');
    assert.equal(ui.explained.at(-1)?.code, 'INVALID_CREDENTIALS');
    assert.match(ui.explained.at(-1)!.message, /Wrong username or password for bob/);

    await secrets.store(`parley.password:${t.url}:bob`, 'not-bobs-password');
    assert.equal(await auth.signIn({ interactive: true }), 'bob');
    assert.equal(ui.prompts.length, 1);
    assert.match(ui.prompts[0]!, /^Password for bob on .+ \(wrong password: 1 attempt left\)$/);
    assert.deepEqual([...secrets.values.keys()], [tokenKey(t, 'bob')]);
    ui.assertNeverShown('bob-pw', 'not-bobs-password');
  });

  test('a lockout forgets the password, is not asked again, and says how long it lasts', async () => {
    for (let i = 0; i < 3; i++) await assert.rejects((await t.connect()).login('dave', `guess-${i}`));
    const secrets = new MemorySecrets();
    const ui = new Answers({ url: t.url, username: 'dave' }, ['dave-pw']);
    const { auth } = make(secrets, ui);
    await secrets.store(`parley.password:${t.url}:dave`, 'dave-pw');
    assert.equal(await auth.signIn({ interactive: true }), undefined);
    assert.equal(secrets.values.size, 0, 'even a right password is forgotten on a lockout');
    assert.deepEqual(ui.prompts, [], 'no point asking during a lockout');
    assert.equal(ui.explained.at(-1)?.code, 'LOCKED_OUT');
    assert.match(ui.explained.at(-1)!.message, /dave is locked out for \d+ seconds/);
    ui.assertNeverShown('dave-pw', 'guess-0', 'guess-1', 'guess-2');
  });

  test('a password given with the request is stored only once it worked', async () => {
    const secrets = new MemorySecrets();
    const ui = new Answers({ url: '', username: '' });
    const { auth } = make(secrets, ui);
    assert.equal(await auth.signIn({ url: t.url, username: 'carol', password: 'wrong-one', interactive: false }), undefined);
    assert.equal(secrets.values.size, 0);
    assert.equal(await auth.signIn({ url: t.url, username: 'carol', password: 'carol-pw', interactive: false }), 'carol');
    assert.deepEqual([...secrets.values.keys()], [tokenKey(t, 'carol')]);
    assert.deepEqual(ui.settings(), { url: t.url, username: 'carol' }, 'the address and username are saved as settings');
    ui.assertNeverShown('carol-pw', 'wrong-one');
  });
});

describe('after an idle sign-out', () => {
  test('the token is kept: the editor signs back in on its own', async () => {
    const { t, session, secrets, ui, auth, close } = await editorFor('fay');
    try {
      assert.equal(await auth.signIn({ interactive: true }), 'fay');
      t.clock.advance(DEFAULT_TIMINGS.idleTimeoutMs);
      await eventually(() => session.state.connection.phase === 'signed-out', 3000, 'the idle sign-out');
      assert.equal(secrets.values.size, 1);
      assert.equal(await auth.signIn({ interactive: false }), 'fay');
      assert.equal(ui.prompts.length, 1, 'not asked again');
    } finally {
      await close();
    }
  });
});

describe('signing in again after the password changed', () => {
  test('a password changed on the running server signs the session out and forgets the stored one', async () => {
    const { t, session, secrets, ui, auth, close } = await editorFor('fay');
    try {
      assert.equal(await auth.signIn({ interactive: true }), 'fay');
      assert.equal(secrets.values.size, 1);
      await t.server.accounts.setPassword('fay', 'fays-new-password');
      await eventually(() => session.state.connection.phase === 'signed-out', 10_000, 'the session signed out');
      await eventually(() => secrets.values.size === 0, 3000, 'the stale password forgotten');
      assert.equal(await auth.signIn({ interactive: false }), undefined, 'nothing stored: no sign-in without asking');
      ui.assertNeverShown('fay-pw', 'fays-new-password');
    } finally {
      await close();
    }
  });

  test('the stored password, refused when the connection comes back, is forgotten', async () => {
    const { t, session, secrets, ui, auth, close } = await editorFor('erin');
    const { port, dataDir } = t;
    let restarted: TestServer | undefined;
    try {
      assert.equal(await auth.signIn({ interactive: true }), 'erin');
      assert.equal(secrets.values.size, 1);
      // The server stops, the password is changed on its data directory (as `users passwd` does on a stopped server), and
      // the server restarts on the same port and data; the session comes back and signs in with the old password.
      await t.stop();
      const store = await openSqliteStore(dataDir);
      await (await Accounts.open(store, TEST_SCRYPT, Date.now)).setPassword('erin', 'erins-new-password');
      await store.close();
      restarted = await startServer({ port, dataDir });
      await eventually(() => session.state.connection.phase === 'signed-out', 10_000, 'the failed sign-in after reconnecting');
      await eventually(() => secrets.values.size === 0, 3000, 'the refused password forgotten');
      ui.assertNeverShown('erin-pw', 'erins-new-password');
    } finally {
      await close(restarted);
    }
  });
});
