import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { Database } from 'node-sqlite3-wasm';
import { ParleyClient } from '../src/client/parley-client';
import { Program } from './helpers/processes';
import { collect, eventually, ONE_PROCESS_ONLY, passwordOf, startServer, tempDir } from './helpers/server';

/** Runs `parley-server ARGS` to its end. */
async function parleyServer(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = new Program('src/server/main.ts', args);
  p.end();
  const code = await p.exitCode(30_000);
  return { code, out: p.stdout, err: p.stderr };
}

/** `parley-server` serving `dataDir` in a process of its own, stopped (SIGTERM) when the test ends. */
async function serverProcess(t: TestContext, dataDir: string): Promise<{ program: Program; url: string }> {
  const program = new Program('src/server/main.ts', ['0', '--data', dataDir]);
  t.after(async () => {
    program.kill('SIGTERM');
    await program.exited;
  });
  const [, url = ''] = await program.waitFor(/^\s+(http:\/\/127\.0\.0\.1:\d+)$/m);
  return { program, url };
}

/** A data directory with these accounts (passwords as passwordOf says), no server on it. */
async function dataDirWith(users: string[]): Promise<string> {
  const dir = tempDir();
  await (await startServer({ users, dataDir: dir })).stop();
  return dir;
}

async function signedIn(url: string, username: string): Promise<ParleyClient> {
  const client = new ParleyClient(url, { socket: { reconnection: false } });
  await client.connect();
  await client.login(username, passwordOf(username));
  return client;
}

const mode = (file: string): number => statSync(file).mode & 0o777;

describe('backup and restore', { skip: ONE_PROCESS_ONLY }, () => {
  test('a backup taken under a burst of sends restores with every message acknowledged before the backup began', async (t) => {
    const senders = ['alice', 'carol', 'dave'];
    const dataDir = await dataDirWith([...senders, 'bob']);
    const { program, url } = await serverProcess(t, dataDir);

    // Every sender sends continuously (direct messages to bob, who is away, and posts to #general), keeping a few in
    // flight; a refusal for the send rate only slows it down.
    type Acked = { kind: 'message' | 'post'; id: number; clientMsgId: string; body: string };
    const acked: Acked[] = [];
    let sending = true;
    const clients = await Promise.all(senders.map((name) => signedIn(url, name)));
    const loops = clients.flatMap((client, c) =>
      [0, 1, 2].map(async (lane) => {
        for (let i = 0; sending; i++) {
          const clientMsgId = randomUUID();
          const body = `${senders[c]} ${lane}.${i}`;
          const post = lane === 0;
          try {
            const reply = post
              ? await client.request('post', { channel: 'general', body, clientMsgId })
              : await client.request('message', { to: 'bob', body, clientMsgId });
            acked.push({ kind: post ? 'post' : 'message', id: reply.id, clientMsgId, body });
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      }),
    );
    await eventually(() => acked.length >= 60, 20_000, 'sixty acknowledged sends');

    const backup = join(tempDir(), 'parley-backup.db');
    const before = [...acked];
    const backedUp = await parleyServer('backup', backup, '--data', dataDir);
    const during = acked.length;
    await eventually(() => acked.length >= during + 10, 20_000, 'sends acknowledged after the backup');
    sending = false;
    await Promise.all(loops);
    for (const client of clients) client.close();
    assert.equal(backedUp.code, 0, backedUp.err);
    assert.match(backedUp.out, /the running server made it/);
    assert.equal(mode(backup), 0o600);
    program.kill('SIGTERM');
    await program.exited;

    const restoredDir = join(tempDir(), 'restored');
    const restored = await parleyServer('restore', backup, '--data', restoredDir);
    assert.equal(restored.code, 0, restored.err);
    assert.equal(mode(join(restoredDir, 'parley.db')), 0o600);

    const again = await startServer({ dataDir: restoredDir });
    t.after(() => again.close());
    const bob = await again.connect();
    const got = collect(bob, 'message');
    await bob.login('bob', passwordOf('bob'));
    const direct = before.filter((a) => a.kind === 'message');
    const bodies = new Map<number, string>();
    await eventually(
      () => {
        for (const [m] of got) bodies.set(m.id, m.body);
        return direct.every((a) => bodies.has(a.id));
      },
      10_000,
      `the ${direct.length} direct messages acknowledged before the backup`,
    );
    for (const a of direct) assert.equal(bodies.get(a.id), a.body);

    const posts = new Map<number, string>();
    for (let seq: number | undefined; ;) {
      const page = await bob.history({ channel: 'general', limit: 100, ...(seq !== undefined && { before: seq }) });
      for (const m of page.messages) posts.set(m.id, m.body);
      if (!page.more) break;
      seq = page.messages[0]!.seq;
    }
    for (const a of before.filter((a) => a.kind === 'post')) assert.equal(posts.get(a.id), a.body, `post ${a.id}`);

    // Idempotency keys came along: a retry of a send made before the backup gets its first answer, and stores nothing.
    const alice = await again.signIn('alice');
    const first = direct.find((a) => a.body.startsWith('alice'))!;
    const retry = await alice.request('message', { to: 'bob', body: first.body, clientMsgId: first.clientMsgId });
    assert.equal(retry.id, first.id);
  });

  test('backup of a stopped data directory; never over an existing file; restore into a used directory only with --force', async () => {
    const dataDir = await dataDirWith(['alice', 'bob']);
    const setup = await startServer({ dataDir });
    const alice = await setup.signIn('alice');
    const sent = await alice.message('bob', 'before the backup');
    alice.close(); // stop() leaves clients reconnecting, which would keep the test process alive
    await setup.stop();

    const folder = tempDir();
    const backup = join(folder, 'stopped.db');
    const made = await parleyServer('backup', backup, '--data', dataDir);
    assert.equal(made.code, 0, made.err);
    assert.match(made.out, /no server was running/);
    assert.equal(mode(backup), 0o600);
    // The data directory was released: a server starts on it.
    await (await startServer({ dataDir })).stop();

    const bytes = readFileSync(backup);
    const twice = await parleyServer('backup', backup, '--data', dataDir);
    assert.equal(twice.code, 1);
    assert.match(twice.err, /stopped\.db exists; it is left as it is/);
    assert.deepEqual(readFileSync(backup), bytes, 'the existing file is untouched');

    const empty = await parleyServer('backup', join(folder, 'none.db'), '--data', join(folder, 'no-such-dir'));
    assert.equal(empty.code, 1);
    assert.match(empty.err, /there is no Parley database in/);
    assert.equal(existsSync(join(folder, 'none.db')), false, 'a failed backup leaves no file behind');

    // Over a directory that holds a database: only with --force.
    const used = await dataDirWith(['zed']);
    const refused = await parleyServer('restore', backup, '--data', used);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /holds a database already \(parley\.db\); restore replaces it only with --force/);
    const forced = await parleyServer('restore', backup, '--data', used, '--force');
    assert.equal(forced.code, 0, forced.err);
    assert.match(forced.out, /2 users, 1 messages/);
    assert.deepEqual(readdirSync(used).sort(), ['parley.db'], 'nothing of the staging copy is left');

    const after = await startServer({ dataDir: used });
    try {
      const bob = await after.connect();
      const got = collect(bob, 'message');
      await bob.login('bob', passwordOf('bob'));
      await eventually(() => got.some(([m]) => m.id === sent.id && m.body === 'before the backup'), 5000, 'the message');
      assert.equal(after.server.accounts.has('zed'), false, 'the database was replaced');
    } finally {
      await after.close();
    }
  });

  test('a running server that cannot write where the backup goes (a hardened service) still backs up: the command copies it out', async (t) => {
    // systemd's PrivateTmp= and ProtectSystem=strict give the service a /tmp of its own and a read-only system: the folder
    // the operator names is another file, or not writable, for the server. A mount namespace does the same here.
    const probe = spawnSync('unshare', ['--mount', 'true']);
    if (probe.status !== 0) {
      if (process.env.CI) assert.fail(`unshare --mount is needed in CI: ${probe.stderr}`);
      return t.skip('unshare --mount is not permitted here');
    }
    const dataDir = await dataDirWith(['alice', 'bob']);
    const folder = tempDir();
    const script = `mount --bind -o ro "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"`;
    const launch = [
      '--mount',
      'sh',
      '-c',
      script,
      'sh',
      folder,
      process.execPath,
      '--import',
      'tsx',
      'src/server/main.ts',
      '0',
      '--data',
      dataDir,
    ];
    const program = new Program({ command: 'unshare', args: launch, env: process.env });
    t.after(async () => {
      program.kill('SIGTERM');
      await program.exited;
    });
    const [, url = ''] = await program.waitFor(/^\s+(http:\/\/127\.0\.0\.1:\d+)$/m);
    const alice = await signedIn(url, 'alice');
    const sent = await alice.message('bob', 'kept through a read-only folder');
    alice.close();

    const backup = join(folder, 'hardened.db');
    const made = await parleyServer('backup', backup, '--data', dataDir);
    assert.equal(made.code, 0, made.err);
    assert.match(made.out, /the running server made it/);
    assert.equal(mode(backup), 0o600);
    assert.deepEqual(
      readdirSync(dataDir).filter((f) => f.startsWith('backup-')),
      [],
      'nothing of the copy is left in the data directory',
    );
    const copy = new Database(backup, { readOnly: true });
    try {
      assert.deepEqual(copy.all('SELECT body FROM messages WHERE id = ?', [sent.id]), [{ body: 'kept through a read-only folder' }]);
    } finally {
      copy.close();
    }
  });

  test('restore refuses a backup that holds tables or triggers Parley does not make', async () => {
    const dataDir = await dataDirWith(['alice']);
    const backup = join(tempDir(), 'edited.db');
    const made = await parleyServer('backup', backup, '--data', dataDir);
    assert.equal(made.code, 0, made.err);
    const edited = new Database(backup);
    edited.exec(
      'CREATE TABLE copied (body TEXT); CREATE TRIGGER copy AFTER INSERT ON messages BEGIN INSERT INTO copied VALUES (new.body); END;',
    );
    edited.close();

    const target = tempDir();
    const refused = await parleyServer('restore', backup, '--data', target);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /holds what Parley does not make \(table copied, trigger copy\)/);
    assert.deepEqual(readdirSync(target), [], 'nothing was restored');
  });

  test('restore refuses a directory a server runs on, and a file that is not a Parley database, touching nothing', async (t) => {
    const dataDir = await dataDirWith(['alice']);
    const { program } = await serverProcess(t, dataDir);
    const backup = join(tempDir(), 'live.db');
    assert.equal((await parleyServer('backup', backup, '--data', dataDir)).code, 0);

    for (const args of [[], ['--force']]) {
      const refused = await parleyServer('restore', backup, '--data', dataDir, ...args);
      assert.equal(refused.code, 1);
      assert.match(
        refused.err,
        new RegExp(`a Parley server \\(process ${program.child.pid}\\) is running on .*: stop it before restoring`),
      );
    }
    assert.ok(program.running);

    const folder = tempDir();
    const fresh = join(folder, 'fresh');
    const text = join(folder, 'notes.txt');
    writeFileSync(text, 'not a database at all, but long enough to fill a page header '.repeat(20));
    const notSqlite = await parleyServer('restore', text, '--data', fresh);
    assert.equal(notSqlite.code, 1);
    assert.match(notSqlite.err, /notes\.txt is not an SQLite database/);
    assert.deepEqual(readdirSync(fresh), [], 'nothing was written');

    const other = join(folder, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE notes (body TEXT)');
    db.close();
    const foreign = await parleyServer('restore', other, '--data', fresh);
    assert.equal(foreign.code, 1);
    assert.match(foreign.err, /other\.db is an SQLite database, but not Parley's/);
    assert.deepEqual(readdirSync(fresh), []);
  });
});
