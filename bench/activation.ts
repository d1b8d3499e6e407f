/**
 * Extension activation time in a real VS Code (code-server, as `npm run test:vscode` runs it): what VS Code
 * itself reports in Developer: Show Running Extensions (loading the code plus the activate call), for
 * Parley and two references, each activated by one of its commands in the same fresh window: the smallest
 * possible extension (bench/baseline-extension) and one that loads Socket.IO's client and nothing else
 * (bench/socket-io-extension, bundled as Parley is), the least a chat extension needs.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { extensionBundle } from '../scripts/bundle-options.mjs';
import { VsCode } from '../test/vscode/harness';
import { spread, type Spread } from './stats';

export interface ActivationResult {
  parleyMs: Spread;
  baselineMs: Spread;
  socketIoMs: Spread;
}

const BASELINE_NAME = 'Parley Bench Baseline';
const SOCKET_IO_NAME = 'Parley Bench Socket.IO';
const SOCKET_IO_DIR = 'bench/socket-io-extension';
/** A command of each, which activates it. Parley's is Show Log: the chat view would take the keyboard focus. */
const ACTIVATE = [`${BASELINE_NAME}: Hello`, `${SOCKET_IO_NAME}: Hello`, 'Parley: Show Log'];

export async function measureActivation(repeats: number, outDir: string, log: (line: string) => void): Promise<ActivationResult> {
  run(process.execPath, ['scripts/setup-vscode-host.mjs']); // installs code-server once; a no-op afterwards
  run('npm', ['run', 'package']);
  mkdirSync(outDir, { recursive: true });
  const baselineVsix = packageReference('bench/baseline-extension', resolve(outDir, 'bench-baseline.vsix'));
  // Bundled into a folder under outDir with its manifest and readme, so that no build output lands in bench/.
  const stage = resolve(outDir, 'socket-io-extension');
  await build({ ...extensionBundle, entryPoints: [join(SOCKET_IO_DIR, 'extension.ts')], outfile: join(stage, 'dist/extension.js') });
  for (const file of ['package.json', 'README.md']) copyFileSync(join(SOCKET_IO_DIR, file), join(stage, file));
  const socketIoVsix = packageReference(stage, resolve(outDir, 'bench-socket-io.vsix'));

  const parley: number[] = [];
  const baseline: number[] = [];
  const socketIo: number[] = [];
  // A window whose reading fails (a palette entry missed on a busy machine) is tried again, once per window.
  for (let i = 0, failures = 0; i < repeats; i++) {
    const vscode = await VsCode.launch({ name: `bench-activation-${i + 1}`, extraVsix: [baselineVsix, socketIoVsix] });
    try {
      await vscode.step('activation', async () => {
        // Whichever activates first may wait for the extension host to finish starting: each window starts with another.
        for (let k = 0; k < ACTIVATE.length; k++) await vscode.runCommand(ACTIVATE[(i + k) % ACTIVATE.length]!);
        await vscode.runCommand('Developer: Show Running Extensions');
        const [parleyMs, baselineMs, socketIoMs] = await activationTimes(vscode, ['Parley', BASELINE_NAME, SOCKET_IO_NAME]);
        parley.push(parleyMs!);
        baseline.push(baselineMs!);
        socketIo.push(socketIoMs!);
        log(`  window ${i + 1}: Parley ${parleyMs} ms, baseline ${baselineMs} ms, socket.io-client ${socketIoMs} ms`);
      });
    } catch (error) {
      if (++failures > repeats) throw error;
      log(`  window ${i + 1} failed, trying again: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      i--;
    } finally {
      await vscode.close();
    }
  }
  return { parleyMs: spread(parley), baselineMs: spread(baseline), socketIoMs: spread(socketIo) };
}

/** A reference extension's .vsix, made by vsce from its folder. */
function packageReference(dir: string, vsix: string): string {
  run(resolve('node_modules/.bin/vsce'), ['package', '--allow-missing-repository', '--skip-license', '--out', vsix], dir);
  return vsix;
}

/**
 * Reads "Activation: N ms" of each named extension from the Running Extensions editor, waiting while one
 * says "Activating...". The list is virtual (only rows in view exist), so it is read a page at a time.
 */
async function activationTimes(vscode: VsCode, names: string[]): Promise<number[]> {
  const editor = vscode.page.locator('.runtime-extensions-editor').first();
  await editor.waitFor({ state: 'visible', timeout: 30_000 });
  const seen = new Map<string, string>();
  const deadline = Date.now() + 30_000;
  await editor.locator('.monaco-list-row').first().click();
  for (let round = 0; ; round++) {
    const rows = await editor.evaluate((el) => {
      const root = el as { querySelectorAll(s: string): ArrayLike<{ querySelector(s: string): { textContent: string | null } | null }> };
      return Array.from(root.querySelectorAll('.monaco-list-row'), (row) => [
        row.querySelector('.name')?.textContent ?? '',
        row.querySelector('.activation-time')?.textContent ?? '',
      ]);
    });
    for (const [name, text] of rows) if (name) seen.set(name, text ?? '');
    const times = names.map((name) => /Activation: (\d+)ms/.exec(seen.get(name) ?? '')?.[1]);
    if (times.every((t) => t !== undefined)) return times.map(Number);
    if (Date.now() > deadline)
      throw new Error(`no activation time for ${names.join(', ')} in the Running Extensions editor: ${JSON.stringify([...seen])}`);
    // Down a page, and from the top again after the last one (a row may still have been activating).
    await vscode.page.keyboard.press(round % 10 === 9 ? 'Home' : 'PageDown');
    await new Promise((r) => setTimeout(r, 300));
  }
}

function run(command: string, args: string[], cwd = '.'): void {
  const result = spawnSync(command, args, { cwd: resolve(cwd), stdio: 'ignore', timeout: 15 * 60_000 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${String(result.status)})`);
}
