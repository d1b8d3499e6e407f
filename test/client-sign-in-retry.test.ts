import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParleyClient, type ParleyRequestError } from '../src/client/parley-client';
import { eventually, passwordOf, startServer } from './helpers/server';

test('after a restart, every window of a user signs in again, retrying a sign-in refused as busy', async (t) => {
  const first = await startServer({ users: ['alice'] });
  const windows: ParleyClient[] = [];
  t.after(() => windows.forEach((c) => c.close()));
  for (let i = 0; i < 5; i++) {
    const client = new ParleyClient(first.url, {
      requestTimeoutMs: 3000,
      socket: { reconnectionDelay: 50, reconnectionDelayMax: 200 },
      signInRetry: { delayMs: 20, maxDelayMs: 100, attempts: 50 },
    });
    windows.push(client);
    await client.connect();
    await client.login('alice', passwordOf('alice'));
  }
  const resumed = new Set<ParleyClient>();
  const problems: ParleyRequestError[] = [];
  for (const client of windows) {
    client.on('resumed', () => resumed.add(client));
    client.on('problem', (err) => problems.push(err));
  }
  await first.stop();

  // One sign-in per address at a time, and the test clock stands still: only the clock's moves below let
  // the others in, each after at least one RATE_LIMITED.
  const second = await startServer({ dataDir: first.dataDir, port: first.port, signInLimits: { burst: 1, perSecond: 1 } }, first.clock);
  t.after(() => second.close());
  await eventually(
    () => {
      assert.deepEqual(
        problems.map((p) => p.message),
        [],
      );
      second.clock.advance(250);
      return resumed.size === 5;
    },
    30_000,
    'five windows back',
  );
  assert.ok(windows.every((c) => c.state === 'signed-in'));
});
