import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realpathSync, rmSync } from 'node:fs';
import { Accounts } from '../src/server/accounts';
import { runningServerAdmin, serveAdmin } from '../src/server/admin-socket';
import { silentLogger } from '../src/server/log';
import { openSqliteStore } from '../src/server/store/sqlite-store';
import { tempDir, TEST_SCRYPT } from './helpers/server';

test('a users command asks the running server once: the list that finds it answers a list right after', async (t) => {
  const dir = realpathSync(tempDir());
  const store = await openSqliteStore(dir);
  const accounts = await Accounts.open(store, TEST_SCRYPT, Date.now);
  const admin = await serveAdmin(dir, accounts, silentLogger);
  t.after(async () => {
    await admin?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let asked = 0;
  const list = accounts.list.bind(accounts);
  accounts.list = () => {
    asked++;
    return list();
  };

  const running = await runningServerAdmin(dir);
  assert.ok(running, 'the running server was not found');
  assert.deepEqual(await running.list(), []);
  assert.equal(asked, 1);

  // After a change the list is asked for again, and shows it.
  await running.add('dora', 'dora-pw');
  assert.deepEqual(
    (await running.list()).map((u) => u.username),
    ['dora'],
  );
  assert.equal(asked, 2);
});
