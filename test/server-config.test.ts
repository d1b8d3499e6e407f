import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ParleyClient, ParleyRequestError } from '../src/client/parley-client';
import { Program } from './helpers/processes';
import { passwordOf, startServer, tempDir } from './helpers/server';

/** A data directory with users in it (hashed at the tests' cost), and no server running on it. */
async function dataWithUsers(...users: string[]): Promise<string> {
  const dataDir = tempDir();
  const setup = await startServer({ users, dataDir });
  await setup.stop();
  return dataDir;
}

async function refusal(promise: Promise<unknown>): Promise<ParleyRequestError> {
  const err = await promise.then(
    () => assert.fail('the sign-in was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ParleyRequestError, String(err));
  return err;
}

async function finished(program: Program): Promise<{ code: number | null; out: string; err: string }> {
  const code = await program.exitCode();
  return { code, out: program.stdout, err: program.stderr };
}

describe('parley-server --config', () => {
  test('the file is loaded; a PARLEY_ variable overrides it, and a flag overrides both', async (t) => {
    const dataDir = await dataWithUsers('alice');
    const file = join(dataDir, '..', `${dataDir.split('/').pop()}.toml`);
    writeFileSync(
      file,
      [
        `# the team's settings`,
        `port = 0`,
        `data = ${JSON.stringify(dataDir)}`,
        `lock-after = 3`,
        `lock-time = 5`,
        `log-format = "json"`,
      ].join('\n'),
    );
    const server = new Program('src/server/main.ts', ['--config', file, '--lock-time', '7'], {
      PARLEY_LOCK_AFTER: '1',
      PARLEY_LOCK_TIME: '6',
    });
    const alice = new ParleyClient((await server.waitFor(/^\s+(http:\/\/127\.0\.0\.1:\d+)$/m))[1]!);
    t.after(async () => {
      alice.close();
      server.kill();
      await server.exited;
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(file, { force: true });
    });
    await alice.connect();

    // One wrong password locks (the variable's 1, not the file's 3), for 7 seconds (the flag's, not 6 or 5).
    const wrong = await refusal(alice.login('alice', 'wrong'));
    assert.deepEqual([wrong.code, wrong.retryAfterSeconds], ['LOCKED_OUT', 7]);
    const locked = await refusal(alice.login('alice', passwordOf('alice')));
    assert.deepEqual([locked.code, locked.retryAfterSeconds], ['LOCKED_OUT', 7]);

    // The file's log format, and the line that says where each setting came from.
    const lines = server.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const settings = lines.find((line) => line.message === 'settings')!;
    assert.deepEqual(settings['lock-time'], { value: 7, from: '--lock-time' });
    assert.deepEqual(settings['lock-after'], { value: 1, from: 'PARLEY_LOCK_AFTER' });
    assert.deepEqual(settings['data'], { value: dataDir, from: file });
    assert.ok(lines.every((line) => typeof line.time === 'string' && typeof line.level === 'string'));
  });

  test('every problem of a file is named by file, line and key; config check says the same, and passes a good file', async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const bad = join(dir, 'bad.toml');
    writeFileSync(
      bad,
      [
        'port = 0',
        `data = ${JSON.stringify(dir)}`,
        'lock_time = 60',
        '',
        'timeout = "1800"',
        'log-level = "verbose"',
        'metrics-port = 70000',
      ].join('\n'),
    );
    const problems = [
      `${bad}:3: lock_time is not a setting of parley-server (did you mean lock-time?)`,
      `${bad}:5: timeout must be a whole number, not the string "1800"`,
      `${bad}:6: log-level must be one of error, warn, info, debug, not "verbose"`,
      `${bad}:7: metrics-port must be at most 65535`,
    ];

    const start = await finished(new Program('src/server/main.ts', ['--config', bad]));
    assert.equal(start.code, 2);
    for (const problem of problems) assert.ok(start.err.includes(problem), `${problem}\nin:\n${start.err}`);
    assert.doesNotMatch(start.out, /running/);

    const check = await finished(new Program('src/server/main.ts', ['config', 'check', bad]));
    assert.equal(check.code, 1);
    assert.deepEqual(
      check.err
        .trim()
        .replace(/^parley-server: /, '')
        .split('\n'),
      problems,
    );

    const broken = join(dir, 'broken.toml');
    writeFileSync(broken, 'port = 0\nhost = "127.0.0.1\n');
    const syntax = await finished(new Program('src/server/main.ts', ['config', 'check', broken]));
    assert.equal(syntax.code, 1);
    assert.match(syntax.err, new RegExp(`${broken}:2:\\d+: `));

    const good = join(dir, 'good.toml');
    writeFileSync(good, 'port = 4100\nallow-origin = ["https://chat.example.org"]\nsingle-session = true\n');
    const ok = await finished(new Program('src/server/main.ts', ['config', 'check', good]));
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /is a valid configuration; it sets port, single-session, allow-origin\./);

    const example = await finished(new Program('src/server/main.ts', ['config', 'check', 'deploy/parley.toml']));
    assert.equal(example.code, 0, example.err);
  });

  test('a wrong variable or flag is named as such; a setting the file lacks a pair for stops the start', async (t) => {
    const dir = tempDir();
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      finished(new Program('src/server/main.ts', ['0', '--data', dir, ...args], env));

    const variable = await run([], { PARLEY_SEND_PER_SECOND: 'fast' });
    assert.equal(variable.code, 2);
    assert.match(variable.err, /PARLEY_SEND_PER_SECOND must be a number, not "fast"/);

    const alias = await run(['--lock-time', '5', '--block-time', '6']);
    assert.equal(alias.code, 2);
    assert.match(alias.err, /--lock-time and --block-time are the same setting: give one/);

    const half = join(dir, 'half.toml');
    writeFileSync(half, 'tls-cert = "/etc/parley/server.pem"\n');
    const pair = await run(['--config', half]);
    assert.equal(pair.code, 2);
    assert.match(pair.err, /--tls-cert and --tls-key go together/);
  });
});
