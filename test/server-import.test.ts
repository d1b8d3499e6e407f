import assert from 'node:assert/strict';
import { realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { ParleyClient } from '../src/client/parley-client';
import { Accounts, type ImportReport } from '../src/server/accounts';
import { runningServerAdmin, serveAdmin } from '../src/server/admin-socket';
import { streamLogger } from '../src/server/log';
import { createParleyServer } from '../src/server/server';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import { Program } from './helpers/processes';
import { ONE_PROCESS_ONLY, passwordOf, startServer, tempDir, TEST_SCRYPT, type TestServer } from './helpers/server';

/** `user1 user1-pw` … `userN userN-pw`, one a line, then `extra` lines. */
function credentials(count: number, ...extra: string[]): string {
  const lines = Array.from({ length: count }, (_, i) => `user${i + 1} ${passwordOf(`user${i + 1}`)}`);
  return [...lines, ...extra].join('\n') + '\n';
}

/** Three lines that cannot be imported, to follow `credentials(n)`: their numbers are n+1 to n+3. */
const BAD_LINES = ['no!good pw', 'user2 another-pw', 'lonely'];
const rejectedAfter = (n: number): ImportReport['rejected'] => [
  { line: n + 1, reason: 'invalid username "no!good"' },
  { line: n + 2, reason: '"user2" is already on line 2' },
  { line: n + 3, reason: 'expected "username password"' },
];

const usersFrom = (first: number, last: number): string[] => Array.from({ length: last - first + 1 }, (_, i) => `user${first + i}`);

/** A real server with its admin socket, as `parley-server` runs them. */
async function serverWithAdmin(t: TestContext, options: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const server = await startServer(options);
  const admin = await serveAdmin(realpathSync(server.dataDir), server.server.accounts, options?.log ?? streamLogger(() => {}));
  t.after(async () => {
    await admin?.close();
    await server.close();
  });
  return server;
}

async function signsIn(url: string, username: string): Promise<void> {
  const client = new ParleyClient(url, { requestTimeoutMs: 10_000 });
  try {
    await client.connect();
    await client.login(username, passwordOf(username));
  } finally {
    client.close();
  }
}

test('a credentials file at start: a long import logs its progress, bad lines with their numbers, and no password', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'user_pass.txt');
  writeFileSync(file, credentials(30, ...BAD_LINES));
  let log = '';
  const server = await createParleyServer({
    port: 0,
    host: '127.0.0.1',
    dataDir: join(dir, 'data'),
    credentialsFile: file,
    scryptCost: TEST_SCRYPT,
    log: streamLogger((s) => (log += s)),
  });
  t.after(() => server.close());
  assert.deepEqual(server.accounts.usernames(), usersFrom(1, 30).sort());
  assert.deepEqual(log.match(/imported \d+\/\d+ users/g), ['imported 25/30 users', 'imported 30/30 users']);
  assert.match(log, /credentials imported \{"added":30,"existing":0\}/);
  for (const { line } of rejectedAfter(30)) assert.match(log, new RegExp(`credentials line skipped.*"line":${line}\\b`));
  assert.doesNotMatch(log, /user\d+-pw|another-pw/);
});

test(
  'an import on a stopped data directory adds the new users in parallel, leaves existing ones alone and reports bad lines',
  { skip: ONE_PROCESS_ONLY },
  async (t) => {
    const dataDir = tempDir();
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const store = await openSqliteStore(dataDir);
    const accounts = await Accounts.open(store, TEST_SCRYPT, Date.now);
    await accounts.add('user3', 'kept-pw');
    const progress: [number, number][] = [];
    const report = await accounts.importCredentials(credentials(40, ...BAD_LINES), {
      progress: (done, total) => progress.push([done, total]),
    });
    await store.close();

    assert.deepEqual(
      report.added.sort(),
      usersFrom(1, 40)
        .filter((u) => u !== 'user3')
        .sort(),
    );
    assert.deepEqual(report.existing, ['user3']);
    assert.deepEqual(report.rejected, rejectedAfter(40));
    assert.deepEqual(progress, [
      [25, 39],
      [39, 39],
    ]);

    // A server on that directory signs them in; user3 keeps the password it had.
    const server = await startServer({ dataDir });
    t.after(() => server.close());
    await signsIn(server.url, 'user40');
    const user3 = await server.connect();
    await assert.rejects(user3.login('user3', passwordOf('user3')), { code: 'INVALID_CREDENTIALS' });
    await user3.login('user3', 'kept-pw');
  },
);

test('parley-server users import on a running server: the command prints its progress, the server logs it, the users sign in at once', async (t) => {
  let log = '';
  const server = await serverWithAdmin(t, { users: ['alice'], log: streamLogger((s) => (log += s)) });
  const file = join(server.dataDir, 'user_pass.txt');
  writeFileSync(file, credentials(40, 'alice not-her-pw', ...BAD_LINES));

  const command = new Program('src/server/main.ts', ['users', 'import', file, '--data', server.dataDir]);
  t.after(() => command.kill());
  assert.equal(await command.exitCode(60_000), 1, 'a line was skipped');
  assert.equal(command.stdout, 'imported 25/40 users\nimported 40/40 users\nAdded 40 users.\nLeft alone 1 existing user: alice.\n');
  assert.equal(
    command.stderr,
    rejectedAfter(41)
      .map(({ line, reason }) => `Skipped line ${line}: ${reason}\n`)
      .join(''),
  );

  await signsIn(server.url, 'user33');
  await signsIn(server.url, 'alice');
  assert.match(log, /imported 25\/40 users/);
  assert.match(log, /users import through the admin socket \{"added":40,"existing":1,"rejected":3\}/);
  assert.doesNotMatch(log, /user\d+-pw|not-her-pw|another-pw/);
});

test('while a running server imports, other users still sign in: the import takes turns with them in the bound on hashing', async (t) => {
  // A cost high enough that the import takes many hash turns, each long enough to measure.
  const server = await serverWithAdmin(t, {
    users: ['alice', 'bob', 'carol'],
    scryptCost: { N: 2 ** 14, r: 8, p: 1 },
    signInLimits: { concurrentChecks: 2 },
  });
  const admin = await runningServerAdmin(server.dataDir);
  assert.ok(admin, 'the running server was not found');

  const count = 80;
  let done = 0;
  let started: () => void;
  const importing = new Promise<void>((resolve) => (started = resolve));
  const begun = Date.now();
  const imported = admin
    .importCredentials(credentials(count), {
      progress: (n) => {
        done = n;
        started();
      },
    })
    .then((report) => ({ report, ms: Date.now() - begun }));
  await importing;

  const signIns: { ms: number; importedBefore: number }[] = [];
  for (const username of ['alice', 'bob', 'carol']) {
    const at = Date.now();
    await signsIn(server.url, username);
    signIns.push({ ms: Date.now() - at, importedBefore: done });
  }
  const { report, ms: importMs } = await imported;
  assert.equal(report.added.length, count);

  // Each sign-in waited for a turn or two, not for the rest of the import.
  for (const signIn of signIns)
    assert.ok(signIn.importedBefore < count, `a sign-in waited for the whole import: ${JSON.stringify({ signIns, importMs })}`);
  assert.ok(Math.max(...signIns.map((s) => s.ms)) < importMs / 4, `sign-ins took too long: ${JSON.stringify({ signIns, importMs })}`);
});
