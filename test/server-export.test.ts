import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ParleyClient } from '../src/client/parley-client';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import type { UserExport } from '../src/server/user-export';
import { Program } from './helpers/processes';
import { ONE_PROCESS_ONLY, passwordOf, startServer, tempDir } from './helpers/server';

/** Runs `parley-server ARGS` to its end. */
async function parleyServer(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = new Program('src/server/main.ts', args);
  p.end();
  const code = await p.exitCode(30_000);
  return { code, out: p.stdout, err: p.stderr };
}

test(
  'export USER: the account, its messages, channels, posts, blocks and read positions; no password hash',
  { skip: ONE_PROCESS_ONLY },
  async (t) => {
    const dataDir = tempDir();
    await (await startServer({ users: ['alice', 'bob', 'carol'], dataDir })).stop();
    const program = new Program('src/server/main.ts', ['0', '--data', dataDir]);
    t.after(async () => {
      program.kill('SIGTERM');
      await program.exited;
    });
    const [, url = ''] = await program.waitFor(/^\s+(http:\/\/127\.0\.0\.1:\d+)$/m);
    const signIn = async (username: string): Promise<ParleyClient> => {
      const client = new ParleyClient(url, { socket: { reconnection: false } });
      await client.connect();
      await client.login(username, passwordOf(username));
      return client;
    };
    const alice = await signIn('alice');
    const bob = await signIn('bob');
    const sent = await alice.message('bob', 'hello bob');
    const received = await bob.message('alice', 'hello alice');
    const toCarol = await bob.message('carol', 'not for alice');
    await alice.request('createchannel', { name: 'ops' });
    await alice.request('invite', { channel: 'ops', username: 'bob' });
    const post = await alice.post('ops', 'deploy at noon, @bob');
    await bob.post('ops', 'not alice\u2019s post');
    await alice.block('carol');
    await alice.request('read', { conversation: { with: 'bob' }, upTo: received.id });
    await alice.request('read', { conversation: { channel: 'ops' }, upTo: post.seq });
    alice.close();
    bob.close();

    const live = await parleyServer('export', 'alice', '--data', dataDir);
    assert.equal(live.code, 0, live.err);
    const data = JSON.parse(live.out) as UserExport;
    assert.equal(data.account.username, 'alice');
    assert.deepEqual(
      data.messages.map((m) => [m.id, m.body]),
      [
        [sent.id, 'hello bob'],
        [received.id, 'hello alice'],
      ],
    );
    assert.ok(!data.messages.some((m) => m.id === toCarol.id));
    assert.deepEqual(
      data.posts.map((m) => [m.id, m.channel, m.body, m.mentions]),
      [[post.id, 'ops', 'deploy at noon, @bob', ['bob']]],
    );
    assert.deepEqual(data.channels.map((c) => [c.name, c.readSeq]).sort(), [
      ['general', 0],
      ['ops', post.seq],
    ]);
    assert.deepEqual(data.blocks, ['carol']);
    assert.deepEqual(
      data.directReadPositions.find((p) => p.with === 'bob'),
      { with: 'bob', readId: received.id },
    );

    program.kill('SIGTERM');
    await program.exited;
    const store = await openSqliteStore(dataDir);
    const hash = (await store.getUser('alice'))!.passwordHash;
    await store.close();
    assert.ok(!live.out.includes(hash), 'the password hash is not in the export');
    assert.doesNotMatch(live.out, /password/i);

    // From the stopped data directory, into a file only its owner can read; never over an existing file.
    const out = join(tempDir(), 'alice.json');
    const stopped = await parleyServer('export', 'alice', '--data', dataDir, '--out', out);
    assert.equal(stopped.code, 0, stopped.err);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const again = JSON.parse(readFileSync(out, 'utf8')) as UserExport;
    assert.deepEqual({ ...again, exportedAt: '' }, { ...data, exportedAt: '' });
    const twice = await parleyServer('export', 'alice', '--data', dataDir, '--out', out);
    assert.equal(twice.code, 1);
    assert.match(twice.err, /alice\.json exists; it is left as it is/);

    const nobody = await parleyServer('export', 'nobody', '--data', dataDir);
    assert.equal(nobody.code, 1);
    assert.match(nobody.err, /no user "nobody"/);
  },
);
