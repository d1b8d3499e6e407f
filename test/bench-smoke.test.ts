import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BenchResults } from '../bench/results';

/** Runs the bench as `npm run bench` does, bounded, and returns its exit code and output. */
function runBench(args: string[], ms: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), ms);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

// The bench itself is never part of npm test (npm run bench); this only checks that its smallest
// phase runs end to end against the Socket.IO servers and writes results that make sense.
test(
  'the quick bench measures direct throughput of the baseline, the durable relay and Parley end to end',
  { timeout: 50_000 },
  async () => {
    const out = mkdtempSync(join(tmpdir(), 'parley-bench-smoke-'));
    try {
      const { code, output } = await runBench(
        ['--quick', '--only', 'direct', '--clients', '20', '--repeats', '1', '--agents', '1', '--no-ws', '--durable', '--out', out],
        40_000,
      );
      assert.equal(code, 0, output);
      const results = JSON.parse(readFileSync(join(out, 'quick.json'), 'utf8')) as BenchResults;
      assert.deepEqual(results.errors, []);
      assert.deepEqual(results.meta.kinds, ['baseline', 'durable', 'parley']);
      for (const kind of ['baseline', 'durable', 'parley'] as const) {
        const direct = results.kinds[kind]?.direct;
        assert.ok(direct, `${kind} was measured`);
        assert.equal(direct.clients, 20);
        assert.equal(direct.perSec.runs.length, 1);
        assert.ok(Number.isFinite(direct.perSec.median) && direct.perSec.median > 0, `${kind}: ${direct.perSec.median} messages/s`);
        assert.equal(direct.errors, 0, `${kind} requests refused`);
        assert.ok(direct.serverCpuPct.median > 0, `${kind} server CPU was read`);
        // The two that keep messages do it in a store thread, which must have been busy.
        if (kind === 'baseline') assert.equal(direct.storeElu.median, null, 'the baseline has no store thread (NaN, written as null)');
        else assert.ok(direct.storeElu.median > 0, `${kind}: store thread ${direct.storeElu.median}% busy`);
      }
      const row = results.table?.find((r) => r.measure.startsWith('1.'));
      assert.ok(row?.ratio !== null && row?.ratio !== undefined && Number.isFinite(row.ratio) && row.ratio > 0, `ratio ${row?.ratio}`);
      assert.match(output, /Parley\/baseline/);
      assert.match(readFileSync(join(out, 'quick.svg'), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.ok(existsSync(join(out, 'quick.md')));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
