import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { Program } from './helpers/processes';
import { ONE_PROCESS_ONLY, startServer, tempDir } from './helpers/server';

/** `parley-server ARGS` run from `cwd`, to its end, without PARLEY_DATA. */
async function parleyServerIn(cwd: string, ...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const env = { ...process.env };
  delete env.PARLEY_DATA;
  const tsx = pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href;
  const p = new Program({ command: process.execPath, args: ['--import', tsx, resolve('src/server/main.ts'), ...args], cwd, env });
  p.end();
  const code = await p.exitCode(30_000);
  return { code, out: p.stdout, err: p.stderr };
}

describe('which data directory the admin commands work on', { skip: ONE_PROCESS_ONLY }, () => {
  test('without --data, --config or PARLEY_DATA, and no ./.parley-data, they refuse and create nothing', async () => {
    const cwd = tempDir();
    for (const args of [
      ['users', 'list'],
      ['backup', 'b.db'],
      ['export', 'alice'],
    ]) {
      const run = await parleyServerIn(cwd, ...args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.err}`);
      assert.match(run.err, /which data directory\? Give --data DIR, --config FILE or PARLEY_DATA/);
    }
    assert.deepEqual(readdirSync(cwd), [], 'no database was made where the command ran');
    assert.equal(existsSync(join(cwd, '.parley-data')), false);
  });

  test('--config FILE gives them the data directory the server uses', async () => {
    const dataDir = tempDir();
    await (await startServer({ users: ['alice', 'bob'], dataDir })).stop();
    const cwd = tempDir();
    const config = join(cwd, 'parley.toml');
    writeFileSync(config, `data = ${JSON.stringify(dataDir)}\n`);
    const listed = await parleyServerIn(cwd, 'users', 'list', '--config', config);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /^alice\t/m);
    assert.match(listed.out, /^bob\t/m);
  });
});
