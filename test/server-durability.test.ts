import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ParleyClient } from '../src/client/parley-client';
import type { ChatMessage } from '../src/protocol';
import { createParleyServer } from '../src/server/server';
import { streamLogger } from '../src/server/log';
import { crashStoreWorker } from '../src/server/store/worker-store';
import { Program } from './helpers/processes';
import { collect, eventually, next, ONE_PROCESS_ONLY, passwordOf, startServer, tempDir, TestClock, TEST_SCRYPT } from './helpers/server';

/** Starts `parley-server` as its own process on a free port and returns it with its URL. */
async function serverProcess(dataDir: string, ...args: string[]): Promise<{ program: Program; url: string }> {
  const program = new Program('src/server/main.ts', ['0', '--data', dataDir, ...args]);
  const [, url = ''] = await program.waitFor(/^\s+(http:\/\/127\.0\.0\.1:\d+)$/m);
  return { program, url };
}

/** Runs `parley-server users ARGS --data DIR` to its end, with `input` as its standard input. */
function usersCommand(dataDir: string) {
  return async (args: string[], input?: string) => {
    const p = new Program('src/server/main.ts', ['users', ...args, '--data', dataDir]);
    if (input !== undefined) p.write(input);
    p.child.stdin.end();
    const { code } = await p.exited;
    return { code, out: p.stdout, err: p.stderr };
  };
}

describe('durability', { skip: ONE_PROCESS_ONLY }, () => {
  test('offline messages and blocks survive a clean restart', async () => {
    const t = await startServer({ users: ['alice', 'bob', 'carol'] });
    const alice = await t.signIn('alice');
    await alice.message('bob', 'before restart');
    const carol = await t.signIn('carol');
    await carol.block('alice');
    alice.close();
    carol.close();
    await t.stop();

    const again = await startServer({ dataDir: t.dataDir });
    const bob = await again.connect();
    const arrives = next(bob, 'message');
    await bob.login('bob', 'bob-pw');
    assert.equal((await arrives)[0].body, 'before restart');
    const alice2 = await again.signIn('alice');
    await assert.rejects(alice2.message('carol', 'hi'), { code: 'BLOCKED' });
    await again.close();
  });

  test('every message the server acknowledged survives kill -9 of the server process', async () => {
    const dataDir = tempDir();
    const setup = await startServer({ users: ['alice', 'bob', 'carol'], dataDir });
    await setup.stop();

    const program = new Program('test/fixtures/server-process.ts', [
      dataDir,
      JSON.stringify({ rateLimit: { burst: 1000, perSecond: 1000 } }),
    ]);
    const [, url = ''] = await program.waitFor(/^url (\S+)$/m);
    const alice = new ParleyClient(url, { socket: { reconnection: false } });
    await alice.connect();
    await alice.login('alice', 'alice-pw');
    await alice.block('carol');

    // Many sends in flight at once; kill the server as soon as some have been acknowledged.
    const acknowledged: number[] = [];
    const sends = Array.from({ length: 300 }, (_, i) =>
      alice.message('bob', `m${i}`).then(
        (r) => {
          acknowledged.push(r.id);
          if (acknowledged.length === 100) program.kill('SIGKILL');
        },
        () => undefined,
      ),
    );
    await Promise.all(sends);
    const { signal } = await program.exited;
    assert.equal(signal, 'SIGKILL');
    assert.ok(acknowledged.length >= 100);
    alice.close();

    const after = await startServer({ dataDir });
    const bob = await after.connect();
    const got = collect(bob, 'message');
    await bob.login('bob', 'bob-pw');
    await eventually(() => got.length >= acknowledged.length, 5000, `${acknowledged.length} messages`);
    const ids = got.map(([m]) => m.id);
    for (const id of acknowledged) assert.ok(ids.includes(id), `acknowledged message ${id} was lost`);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
      'delivered in the order sent',
    );
    const bodies = got.map(([m]) => Number(m.body.slice(1)));
    assert.deepEqual(
      bodies,
      [...bodies].sort((a, b) => a - b),
    );
    const carol = await after.signIn('carol');
    await assert.rejects(carol.message('alice', 'hi'), { code: 'BLOCKED' }, 'the block survived too');
    await after.close();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal} tells connected clients, flushes storage and exits 0`, async () => {
      const dataDir = tempDir();
      const setup = await startServer({ users: ['alice', 'bob', 'carol'], dataDir });
      await setup.stop();
      const { program, url } = await serverProcess(dataDir);
      const signIn = async (username: string): Promise<ParleyClient> => {
        const client = new ParleyClient(url, { socket: { reconnection: false } });
        await client.connect();
        await client.login(username, passwordOf(username));
        return client;
      };
      const [alice, bob] = [await signIn('alice'), await signIn('bob')];
      const told = Promise.all([next(alice, 'signedOut'), next(bob, 'signedOut')]);

      // Sends in flight when the signal comes (fewer than the rate limit's burst): the first acknowledgement sends it.
      const acknowledged: number[] = [];
      const sends = Array.from({ length: 20 }, (_, i) =>
        alice.message('carol', `m${i}`).then(
          (reply) => {
            if (acknowledged.push(reply.id) === 1) program.kill(signal);
          },
          () => undefined, // cut off by the shutdown: it may or may not have been stored
        ),
      );
      await Promise.all(sends);
      assert.deepEqual(
        (await told).map(([event]) => event.reason),
        ['shutdown', 'shutdown'],
      );
      assert.deepEqual(await program.exited, { code: 0, signal: null });
      assert.match(program.stdout, new RegExp(`${signal}: telling clients and flushing storage`));
      alice.close();
      bob.close();

      const after = await startServer({ dataDir }, new TestClock(Date.now(), true));
      const carol = await after.connect();
      const got = collect(carol, 'message');
      await carol.login('carol', passwordOf('carol'));
      await eventually(() => got.length >= acknowledged.length, 5000, `${acknowledged.length} messages`);
      const ids = got.map(([m]) => m.id);
      for (const id of acknowledged) assert.ok(ids.includes(id), `acknowledged message ${id} was lost`);
      // Their last-seen times are written without waiting: only the shutdown's flush puts alice and bob in wholast.
      assert.deepEqual((await carol.whoelse()).users, []);
      assert.deepEqual((await carol.wholast(1)).users, ['alice', 'bob']);
      await after.close();
    });
  }

  test('the server carries on when its store thread dies: it logs it, and messages go through as before', async (test) => {
    const lines: string[] = [];
    const log = { debug: () => {}, info: () => {}, warn: () => {}, error: (message: string) => lines.push(message) };
    const t = await startServer({ users: ['alice', 'bob'], log });
    test.after(() => t.close());
    const [alice, bob] = [await t.signIn('alice'), await t.signIn('bob')];
    await alice.message('bob', 'before');
    await crashStoreWorker(t.server.store);
    await eventually(() => lines.some((line) => line.startsWith('the store thread stopped')));
    const arrives = next(bob, 'message');
    await alice.message('bob', 'after');
    assert.equal((await arrives)[0].body, 'after');
  });

  test('a second server on the same data directory is refused with a clear error', async () => {
    const t = await startServer({ users: [] });
    await assert.rejects(createParleyServer({ dataDir: t.dataDir, scryptCost: TEST_SCRYPT }), /in use by process/);
    await t.close();
  });
});

describe("parley-server's options", { skip: ONE_PROCESS_ONLY }, () => {
  test('--single-session, --block-time and --timeout take effect', async (t) => {
    const dataDir = tempDir();
    const setup = await startServer({ users: ['alice', 'bob'], dataDir });
    await setup.stop();
    const { program, url } = await serverProcess(dataDir, '--single-session', '--block-time', '7', '--timeout', '2');
    const clients: ParleyClient[] = [];
    t.after(() => {
      for (const c of clients) c.close();
      program.kill();
      rmSync(dataDir, { recursive: true, force: true });
    });
    const connect = async (): Promise<ParleyClient> => {
      const client = new ParleyClient(url, { socket: { reconnection: false } });
      clients.push(client);
      await client.connect();
      return client;
    };

    const alice = await connect();
    await alice.login('alice', passwordOf('alice'));
    const idle = next(alice, 'signedOut', () => true, 15_000);
    await assert.rejects((await connect()).login('alice', passwordOf('alice')), {
      code: 'ALREADY_SIGNED_IN',
      message: 'alice is already signed in elsewhere.',
    });

    const guess = await connect();
    for (let i = 0; i < 2; i++) await assert.rejects(guess.login('bob', 'wrong'), { code: 'INVALID_CREDENTIALS' });
    await assert.rejects(guess.login('bob', 'wrong'), { code: 'LOCKED_OUT', retryAfterSeconds: 7, message: /Try again in 7 seconds/ });

    const [signedOut] = await idle;
    assert.deepEqual(signedOut, { reason: 'idle', message: 'You were signed out after 2 seconds without activity.' });
  });
});

describe('accounts', () => {
  test('a user_pass.txt is imported as hashes: no password in the database files or the log', async () => {
    const dir = tempDir();
    const credentials = join(dir, 'user_pass.txt');
    writeFileSync(credentials, '# name password\nhans falcon*solo\nyoda wise@!man\n\nbad line here\nwrong!name pw\n');
    let log = '';
    const server = await createParleyServer({
      dataDir: join(dir, 'data'),
      credentialsFile: credentials,
      scryptCost: TEST_SCRYPT,
      log: streamLogger((s) => (log += s)),
    });
    const { port } = await server.listen();
    const client = new ParleyClient(`http://127.0.0.1:${port}`);
    await client.connect();
    await assert.rejects(client.login('hans', 'wise@!man'));
    await client.login('hans', 'falcon*solo');
    client.close();
    assert.deepEqual((await server.accounts.list()).map((u) => u.username).sort(), ['hans', 'yoda']);
    await server.close();

    assert.match(log, /credentials line skipped.*"line":5/);
    assert.match(log, /credentials line skipped.*"line":6/);
    for (const file of readdirSync(join(dir, 'data'))) {
      const bytes = readFileSync(join(dir, 'data', file));
      for (const secret of ['falcon*solo', 'wise@!man']) {
        assert.equal(bytes.includes(secret), false, `${secret} found in ${file}`);
      }
    }
    assert.equal(log.includes('falcon*solo') || log.includes('wise@!man'), false, 'a password was logged');

    // Importing again keeps existing accounts as they are.
    writeFileSync(credentials, 'hans changed\n');
    const again = await createParleyServer({
      dataDir: join(dir, 'data'),
      credentialsFile: credentials,
      scryptCost: TEST_SCRYPT,
      log: streamLogger(() => {}),
    });
    const { port: port2 } = await again.listen();
    const c2 = new ParleyClient(`http://127.0.0.1:${port2}`);
    await c2.connect();
    await c2.login('hans', 'falcon*solo');
    c2.close();
    await again.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('parley-server users add, passwd, list and remove', { skip: ONE_PROCESS_ONLY }, async (ctx) => {
    const dataDir = tempDir();
    const run = usersCommand(dataDir);
    assert.equal((await run(['add', 'carol'], 'first-pw')).code, 0);
    assert.match((await run(['add', 'carol'], 'again')).err, /already exists/);
    assert.equal((await run(['passwd', 'carol'], 'second-pw')).code, 0);
    assert.match((await run(['list'])).out, /^carol\tnever seen$/m);
    const bad = await run(['add', 'no good'], 'x');
    assert.notEqual(bad.code, 0);
    const path = await run(['add', '../etc']);
    assert.notEqual(path.code, 0);
    assert.match(path.err, /"\.\.\/etc" is not a valid username/);
    assert.doesNotMatch(path.err, /Password for/, 'refused before the password is asked for');

    const t = await startServer({ dataDir });
    ctx.after(() => t.stop()); // also when an assertion fails: an open server would keep the test process alive
    const carol = await t.connect();
    ctx.after(() => carol.close());
    await assert.rejects(carol.login('carol', 'first-pw'), { code: 'INVALID_CREDENTIALS' });
    await carol.login('carol', 'second-pw');
    carol.close();
    await t.stop();

    assert.equal((await run(['remove', 'carol'])).code, 0);
    assert.match((await run(['remove', 'carol'])).err, /no user "carol"/);
    assert.match((await run(['list'])).out, /\(no users\)/);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('parley-server users works on a running server through its admin socket, which only its system user can open', async (ctx) => {
    const dataDir = tempDir();
    const { program: server, url } = await serverProcess(dataDir);
    const run = usersCommand(dataDir);
    try {
      if (process.platform !== 'win32') assert.equal(statSync(join(dataDir, 'admin.sock')).mode & 0o777, 0o600);
      assert.equal((await run(['add', 'dora'], 'dora-pw')).code, 0);
      assert.match((await run(['add', 'dora'], 'again')).err, /already exists/);
      assert.match((await run(['list'])).out, /^dora\tnever seen$/m);

      // The running server knows her at once: no restart.
      const dora = new ParleyClient(url, { requestTimeoutMs: 3000 });
      ctx.after(() => dora.close()); // a client left open would reconnect forever and keep the test process alive
      await dora.connect();
      await dora.login('dora', 'dora-pw');
      assert.match((await run(['passwd', 'dora'], 'x'.repeat(257))).err, /a password has at most 256 characters/);
      // Generous: the command is a process of its own, slow to start on a busy machine.
      const changed = next(dora, 'signedOut', () => true, 60_000);
      assert.equal((await run(['passwd', 'dora'], 'new-pw')).code, 0);
      assert.equal((await changed)[0].reason, 'password-changed', 'the old password signs her out');
      dora.close();
      const doraAgain = new ParleyClient(url, { requestTimeoutMs: 3000 });
      ctx.after(() => doraAgain.close());
      await doraAgain.connect();
      await doraAgain.login('dora', 'new-pw');
      const told = next(doraAgain, 'signedOut', () => true, 60_000);
      assert.equal((await run(['remove', 'dora'])).code, 0);
      assert.equal((await told)[0].reason, 'account-removed', 'her session ends with her account');
      assert.match((await run(['remove', 'dora'])).err, /no user "dora"/);
      doraAgain.close();
      // Nothing of the password reached the server's log.
      assert.doesNotMatch(server.stdout + server.stderr, /dora-pw|new-pw/);
      assert.match(server.stderr, /users add through the admin socket.*dora/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('parley-server users import FILE: on a stopped data directory, then through the running server', async (ctx) => {
    const dataDir = tempDir();
    const run = usersCommand(dataDir);
    const file = join(dataDir, 'user_pass.txt');
    const missing = await run(['import', join(dataDir, 'missing.txt')]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no such file/);

    // At the shipped scrypt cost: a few users only.
    writeFileSync(file, 'ann ann-pw\nno!good x\nben ben-pw\nann again\n');
    const stopped = await run(['import', file]);
    assert.equal(stopped.code, 1, 'a line was skipped');
    assert.equal(stopped.out, 'Added 2 users.\n');
    assert.equal(stopped.err, 'Skipped line 2: invalid username "no!good"\nSkipped line 4: "ann" is already on line 1\n');

    const { program: server, url } = await serverProcess(dataDir);
    try {
      writeFileSync(file, 'ben not-bens-pw\ncid cid-pw\n');
      const running = await run(['import', file]);
      assert.equal(running.code, 0);
      assert.equal(running.out, 'Added 1 user.\nLeft alone 1 existing user: ben.\n');
      for (const [username, password] of [
        ['ben', 'ben-pw'],
        ['cid', 'cid-pw'],
      ] as const) {
        const client = new ParleyClient(url, { requestTimeoutMs: 10_000 });
        ctx.after(() => client.close());
        await client.connect();
        await client.login(username, password);
        client.close();
      }
      assert.match(server.stderr, /users import through the admin socket \{"added":1,"existing":1,"rejected":0\}/);
      assert.doesNotMatch(server.stdout + server.stderr, /-pw/);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('removing an account signs its sessions out', async () => {
    const t = await startServer({ users: ['alice', 'bob'] });
    const bob = await t.signIn('bob');
    const alice = await t.signIn('alice');
    const told = next(bob, 'signedOut');
    const gone = next(alice, 'presence', (e) => e.username === 'bob' && !e.online);
    assert.equal(await t.server.accounts.remove('bob'), true);
    assert.equal((await told)[0].reason, 'account-removed');
    await gone;
    await assert.rejects(alice.message('bob', 'hi'), { code: 'UNKNOWN_USER' });
    await t.close();
  });

  test("a new account with a removed user's name sees none of the old one's messages; the others keep theirs", async () => {
    const t = await startServer({ users: ['alice', 'bob', 'carol'] });
    const alice = await t.signIn('alice');
    const bob = await t.signIn('bob');
    await alice.message('bob', 'old alice to bob');
    await bob.message('alice', 'bob to old alice');
    alice.close();
    await bob.message('alice', 'waiting for old alice');
    await bob.broadcast('bob to all', ['alice', 'carol']);

    assert.equal(await t.server.accounts.remove('alice'), true);
    await t.server.accounts.add('alice', 'new-alice-pw');
    const newAlice = await t.connect();
    const replayed = collect(newAlice, 'message');
    await newAlice.login('alice', 'new-alice-pw');
    // Replies come after the replay, so it is over by now.
    assert.deepEqual((await newAlice.history()).messages, []);
    assert.deepEqual((await newAlice.history({ with: 'bob' })).messages, []);
    assert.deepEqual(replayed, []);

    await newAlice.message('bob', 'new alice to bob');
    const bodiesOf = (messages: ChatMessage[]): string[] => messages.map((m) => m.body);
    assert.deepEqual(bodiesOf((await newAlice.history()).messages), ['new alice to bob']);
    assert.deepEqual(bodiesOf((await bob.history({ with: 'alice' })).messages), ['new alice to bob']);
    assert.deepEqual(bodiesOf((await bob.history()).messages), [
      'old alice to bob',
      'bob to old alice',
      'waiting for old alice',
      'bob to all',
      'new alice to bob',
    ]);
    await t.close();
  });
});

export type { ChatMessage };

describe('a client that reads too slowly', () => {
  test('is disconnected once too much waits for it, reconnects by itself and gets every message once, in order', async (t) => {
    let logged = '';
    const srv = await startServer({
      users: ['alice', 'bob'],
      timings: { maxQueuedBytes: 512 * 1024 },
      rateLimit: { burst: 100_000, perSecond: 100_000 },
      maxPendingPerSender: 100_000,
      log: streamLogger((text) => (logged += text)),
    });
    t.after(() => srv.close());
    const alice = await srv.signIn('alice');
    const bob = await srv.signIn('bob');
    const got = collect(bob, 'message');
    // Its timer runs from before the sends: the close may come while they go, and on PostgreSQL they take a while.
    const resumed = next(bob, 'resumed', () => true, 60_000);

    // Bob's client stops reading its socket: what the server writes fills the kernel's buffers, then waits in the server.
    const tcp = (bob as unknown as { socket: { io: { engine: { transport: { ws: { _socket: { pause(): void; resume(): void } } } } } } })
      .socket.io.engine.transport.ws._socket;
    tcp.pause();
    const body = 'x'.repeat(3900);
    const total = 3000;
    for (let i = 0; i < total; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, k) => alice.message('bob', `${i + k} ${body}`)));
    }
    await eventually(() => logged.includes('closed a connection that reads too slowly'), 10_000, 'the server closing it');
    tcp.resume();

    await resumed;
    await eventually(() => got.length === total, 15_000, `all ${total} messages (${got.length} so far)`);
    assert.deepEqual(
      got.map(([m]) => Number(m.body.split(' ')[0])),
      Array.from({ length: total }, (_, i) => i),
    );
    alice.close();
    bob.close();
  });
});
