import { build } from 'esbuild';
import { JSDOM, VirtualConsole } from 'jsdom';
import type { HostToWebview, WebviewToHost } from '../../src/view-protocol';

let bundle: Promise<string> | undefined;

/** The real webview bundle, built from src/webview/ui/main.ts as scripts/build.mjs builds it (once per test process). */
export function webviewBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: ['src/webview/ui/main.ts'],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  }).then((result) => result.outputFiles[0]!.text);
  return bundle;
}

export interface WebviewPage {
  dom: JSDOM;
  window: Window & typeof globalThis;
  document: Document;
  /** What the webview posted to the host. */
  posted: WebviewToHost[];
  /** What the page logged (console.*). */
  console: string[];
  /** What it saved with setState. */
  state: () => unknown;
  /** Delivers a message from the host. */
  send(message: HostToWebview | unknown): void;
  /** `document.querySelectorAll` inside #app. */
  all(selector: string): Element[];
  close(): void;
}

export interface OpenOptions {
  /** What getState returns at first (what the page saved before it was discarded). */
  state?: unknown;
  /** Fixes the page's clock (`new Date()`, `Date.now()`) at this time, so that "Today" is a known day. */
  now?: number;
}

/** A script for the page that stops its clock at `now`; dates built from arguments are left alone. */
function fixedClock(now: number): string {
  return `(() => {
    const RealDate = Date;
    class FixedDate extends RealDate {
      constructor(...args) { if (args.length === 0) super(${now}); else super(...args); }
      static now() { return ${now}; }
    }
    globalThis.Date = FixedDate;
  })();`;
}

/** Loads the webview bundle into a jsdom page with the same HTML the extension serves and a recording acquireVsCodeApi. */
export async function openWebview(options: OpenOptions = {}): Promise<WebviewPage> {
  const code = await webviewBundle();
  const logged: string[] = [];
  const virtualConsole = new VirtualConsole();
  for (const level of ['log', 'warn', 'error', 'info'] as const)
    virtualConsole.on(level, (...args: unknown[]) => logged.push(args.join(' ')));
  virtualConsole.on('jsdomError', (err: Error) => logged.push(`jsdom: ${err.message}`));
  const dom = new JSDOM('<!DOCTYPE html><html><body class="vscode-dark"><div id="app"></div></body></html>', {
    runScripts: 'dangerously',
    pretendToBeVisual: true,
    virtualConsole,
  });
  const window = dom.window as unknown as Window & typeof globalThis;
  const posted: WebviewToHost[] = [];
  let state: unknown = options.state;
  let acquired = 0;
  Object.assign(window, {
    acquireVsCodeApi: () => {
      acquired++;
      if (acquired > 1) throw new Error('acquireVsCodeApi called twice');
      return {
        postMessage: (m: unknown) => posted.push(JSON.parse(JSON.stringify(m)) as WebviewToHost),
        getState: () => state,
        setState: (s: unknown) => (state = JSON.parse(JSON.stringify(s))),
      };
    },
  });
  const script = window.document.createElement('script');
  script.textContent = options.now === undefined ? code : `${fixedClock(options.now)}\n${code}`;
  window.document.body.appendChild(script);
  return {
    dom,
    window,
    document: window.document,
    posted,
    console: logged,
    state: () => state,
    send: (message) => window.dispatchEvent(new window.MessageEvent('message', { data: JSON.parse(JSON.stringify(message)) })),
    all: (selector) => [...window.document.querySelectorAll(`#app ${selector}`)],
    close: () => window.close(),
  };
}

/** The conversation switcher's options that the filter shows, in order. */
export function switcherOptions(page: WebviewPage): HTMLElement[] {
  return (page.all('.switcher-list [role="option"]') as HTMLElement[]).filter((o) => !o.hidden && !(o.parentElement as HTMLElement).hidden);
}

/** Opens the conversation switcher as a click on its button does; returns its options. */
export function openSwitcher(page: WebviewPage): HTMLElement[] {
  const button = page.document.querySelector<HTMLButtonElement>('#app .switcher-button')!;
  if (button.getAttribute('aria-expanded') !== 'true') button.click();
  return switcherOptions(page);
}

type Snapshot = Extract<HostToWebview, { type: 'snapshot' }>;

/** The host's snapshot for alice, signed in, with what the test gives (conversations, the active one, its items…). */
export function signedInSnapshot(fields: Pick<Snapshot, 'conversations' | 'active' | 'items'> & Partial<Snapshot>): Snapshot {
  return {
    type: 'snapshot',
    me: 'alice',
    connection: { phase: 'signed-in', username: 'alice', url: 'http://127.0.0.1:4000' },
    hasOlder: false,
    usernames: [],
    ...fields,
  };
}
