import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ParleyClient, ParleyRequestError } from '../src/client/parley-client';
import { redactUrl } from '../src/server/redact';
import { Program } from './helpers/processes';
import { next, ONE_PROCESS_ONLY, passwordOf, startServer, tempDir } from './helpers/server';

const WRONG_PASSWORD = 'wrong-horse-battery';
const FORGED_TOKEN = 'forged-token-0123456789abcdef';
const TEXTS = ['direct text sunflower', 'broadcast text quasar', 'channel text marmalade', 'private reply lighthouse'];

async function refused(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => assert.fail('accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ParleyRequestError, String(err));
}

/** Signs in and chats every way there is against a running server; returns what must never be logged. */
async function chat(url: string): Promise<string[]> {
  const client = (): ParleyClient => new ParleyClient(url);
  const [alice, bob, mallory, again] = [client(), client(), client(), client()];
  try {
    for (const c of [alice, bob, mallory, again]) await c.connect();
    await alice.login('alice', passwordOf('alice'));
    await bob.login('bob', passwordOf('bob'));
    const token = alice.sessionToken!.token;
    await refused(mallory.login('bob', WRONG_PASSWORD));
    await refused(mallory.resume(FORGED_TOKEN, 'alice'));
    await again.resume(token, 'alice');

    const arrived = next(bob, 'message', (m) => m.body === TEXTS[0]);
    await alice.message('bob', TEXTS[0]!);
    await arrived;
    await alice.broadcast(TEXTS[1]!);
    await alice.request('createchannel', { name: 'ops' });
    await bob.request('join', { channel: 'ops' });
    await alice.post('ops', TEXTS[2]!);
    await bob.message('alice', TEXTS[3]!);
    await again.logout();
    return [passwordOf('alice'), passwordOf('bob'), WRONG_PASSWORD, FORGED_TOKEN, token, ...TEXTS];
  } finally {
    for (const c of [alice, bob, mallory, again]) c.close();
  }
}

describe('the server log', () => {
  for (const format of ['text', 'json'] as const) {
    test(
      `at debug in ${format}: what an operator needs, and no password, session token or message text`,
      { skip: ONE_PROCESS_ONLY },
      async (t) => {
        const dataDir = tempDir();
        const setup = await startServer({ users: ['alice', 'bob'], dataDir });
        await setup.stop();
        const server = new Program('src/server/main.ts', ['0', '--data', dataDir, '--log-level', 'debug', '--log-format', format]);
        t.after(async () => {
          server.kill();
          await server.exited;
          rmSync(dataDir, { recursive: true, force: true });
        });
        const url = (await server.waitFor(/^\s+(http:\/\/127\.0\.0\.1:\d+)$/m))[1]!;
        const secrets = await chat(url);
        await server.waitForStderr(/connection closed[\s\S]*connection closed[\s\S]*connection closed[\s\S]*connection closed/);
        server.kill('SIGTERM');
        assert.equal(await server.exitCode(), 0);

        const log = server.stderr;
        for (const secret of secrets)
          assert.ok(!log.includes(secret) && !server.stdout.includes(secret), `"${secret}" is in the log:\n${log}`);
        const lines = log.trim().split('\n');
        const messages =
          format === 'json'
            ? lines.map((line) => {
                const entry = JSON.parse(line) as Record<string, unknown>;
                assert.deepEqual(Object.keys(entry).slice(0, 3), ['time', 'level', 'message'], line);
                assert.ok(!Number.isNaN(Date.parse(entry.time as string)), line);
                return `${entry.level} ${entry.message}`;
              })
            : lines.map((line) => /^\S+Z (\w+ [^{]+?)(?: \{.*\})?$/.exec(line)![1]!);
        for (const wanted of [
          'debug connection opened',
          'debug connection closed',
          'debug sign-in refused',
          'info signed in',
          'warn failed login',
        ]) {
          assert.ok(messages.includes(wanted), `no "${wanted}" in:\n${log}`);
        }
      },
    );
  }

  test('--log-level warn leaves out info and debug', async (t) => {
    const dataDir = tempDir();
    const server = new Program('src/server/main.ts', ['0', '--data', dataDir, '--log-level', 'warn', '--host', '0.0.0.0']);
    t.after(async () => {
      server.kill();
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
    });
    await server.waitFor(/is running/);
    // Beyond loopback without TLS: a warning, and the info lines (settings, listening) are left out.
    await server.waitForStderr(/ warn listening beyond this machine without TLS/);
    assert.doesNotMatch(server.stderr, / (info|debug) /);
  });

  test('a database URL loses its password before it is written anywhere', () => {
    assert.equal(redactUrl('postgres://parley:s3cret@db.lan:5432/parley'), 'postgres://parley:***@db.lan:5432/parley');
    assert.equal(
      redactUrl('postgresql://db.lan/parley?user=parley&password=s3cret'),
      'postgresql://db.lan/parley?user=parley&password=***',
    );
    assert.equal(redactUrl('postgres://parley@db.lan/parley'), 'postgres://parley@db.lan/parley');
    assert.equal(redactUrl('parley:s3cret@db.lan'), '***', 'what does not read as a URL is hidden whole');
  });
});
