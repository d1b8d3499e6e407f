/**
 * The client side (issue 6): what the extension ships and how fast the chat view renders a long
 * conversation. Runs in the orchestrator's process. The render baseline is the naive list: the same
 * snapshot of 10,000 messages rendered as one element per message, in the same kind of jsdom page.
 * Beside it, the conversation switcher of a team (issue 16): opening its list and filtering it as
 * someone types.
 */
import { statSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { JSDOM } from 'jsdom';
import type { ConversationSummary, HostToWebview, TimelineItem } from '../src/view-protocol';
import { openWebview, type WebviewPage } from '../test/helpers/webview-dom';
import { spread, type Spread } from './stats';

export interface ClientResult {
  /** Bytes of dist/ files as packaged (minified), and gzipped. */
  bundles: { file: string; bytes: number; gzipBytes: number }[];
  render: { messages: number; parleyMs: Spread; naiveMs: Spread; parleyNodes: number; naiveNodes: number };
  /** Opening the switcher (building its list) and one keystroke of filtering, with `channels` and `people`. */
  switcher: { channels: number; people: number; rows: number; openMs: Spread; filterMs: Spread };
}

const SWITCHER_TEAM = { channels: 50, people: 200 };
/** Typed into the switcher's filter one character at a time. */
const SWITCHER_QUERY = 'user-1';

const BUNDLES = ['dist/extension.js', 'dist/webview.js', 'dist/extension-server.js', 'dist/sqlite-worker.js'];

export async function measureClient(messages: number, repeats: number): Promise<ClientResult> {
  const bundles = BUNDLES.map((file) => ({ file, bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length }));
  const payload = snapshot(messages);
  const parley: number[] = [];
  const naive: number[] = [];
  let parleyNodes = 0;
  let naiveNodes = 0;
  // One unrecorded round each (JIT, jsdom's first layout of the page), then alternate.
  for (let run = -1; run < repeats; run++) {
    const page = await openWebview();
    const t0 = performance.now();
    page.send(payload);
    const ms = performance.now() - t0;
    parleyNodes = page.document.querySelectorAll('#app *').length;
    page.close();

    const plain = naivePage();
    const t1 = performance.now();
    plain.send(payload);
    const naiveMs = performance.now() - t1;
    naiveNodes = plain.nodes();
    plain.close();
    if (run >= 0) {
      parley.push(ms);
      naive.push(naiveMs);
    }
  }
  return {
    bundles,
    render: { messages, parleyMs: spread(parley), naiveMs: spread(naive), parleyNodes, naiveNodes },
    switcher: await measureSwitcher(repeats),
  };
}

async function measureSwitcher(repeats: number): Promise<ClientResult['switcher']> {
  const payload = teamSnapshot(SWITCHER_TEAM.channels, SWITCHER_TEAM.people);
  const open: number[] = [];
  const filter: number[] = [];
  let rows = 0;
  for (let run = -1; run < repeats; run++) {
    const page = await openWebview();
    page.send(payload);
    const button = page.document.querySelector<HTMLButtonElement>('.switcher-button')!;
    const t0 = performance.now();
    button.click();
    const openMs = performance.now() - t0;
    rows = page.document.querySelectorAll('#app [role="option"]').length;
    const keystrokes = typeInto(page, SWITCHER_QUERY);
    page.close();
    if (run >= 0) {
      open.push(openMs);
      filter.push(keystrokes);
    }
  }
  return { ...SWITCHER_TEAM, rows, openMs: spread(open), filterMs: spread(filter) };
}

/** Types `text` into the switcher's filter a character at a time; the mean time per keystroke. */
function typeInto(page: WebviewPage, text: string): number {
  const input = page.document.querySelector<HTMLInputElement>('.switcher-filter')!;
  const t0 = performance.now();
  for (let i = 1; i <= text.length; i++) {
    input.value = text.slice(0, i);
    input.dispatchEvent(new page.window.Event('input', { bubbles: true }));
  }
  return (performance.now() - t0) / text.length;
}

/** Signed in to a team: Everyone, `channels` channels and `people` people, some with unread messages. */
function teamSnapshot(channels: number, people: number): Snapshot {
  const summary = (id: string, title: string, kind: ConversationSummary['kind'], i: number): ConversationSummary => ({
    id,
    title,
    kind,
    unread: i % 6 === 0 ? 3 : 0,
    online: i % 2 === 0,
    blocked: false,
  });
  const conversations = [
    summary('everyone', 'Everyone', 'everyone', 1),
    ...Array.from({ length: channels }, (_, i) => ({
      ...summary(`channel:team-${i}`, `team-${i}`, 'channel', i),
      mentions: i % 12 === 0 ? 1 : 0,
    })),
    ...Array.from({ length: people }, (_, i) => summary(`dm:user-${i}`, `user-${i}`, 'direct', i)),
  ];
  return {
    ...snapshot(0),
    conversations,
    active: 'channel:team-1',
    usernames: conversations.flatMap((c) => (c.kind === 'direct' ? [c.title] : [])),
  };
}

type Snapshot = Extract<HostToWebview, { type: 'snapshot' }>;

function snapshot(count: number): Snapshot {
  const now = Date.now();
  const items: TimelineItem[] = Array.from({ length: count }, (_, i) => ({
    kind: 'message',
    key: [i + 1, 0],
    message: {
      id: i + 1,
      from: i % 2 ? 'bob' : 'alice',
      to: i % 2 ? 'alice' : 'bob',
      kind: 'direct',
      body: `message number ${i + 1}, with **some** markdown and \`code\``,
      sentAt: now - (count - i) * 1000,
    },
  }));
  return {
    type: 'snapshot',
    me: 'alice',
    connection: { phase: 'signed-in', username: 'alice', url: 'http://127.0.0.1:4000' },
    conversations: [{ id: 'dm:bob', title: 'bob', kind: 'direct', unread: 0, online: true, blocked: false }],
    active: 'dm:bob',
    items,
    hasOlder: false,
    usernames: ['bob'],
  };
}

/** The baseline: a page that renders every message it is sent as an element of its own (sender, time, text). */
function naivePage(): { send(message: HostToWebview): void; nodes(): number; close(): void } {
  const dom = new JSDOM('<!DOCTYPE html><html><body><div id="app"></div></body></html>', {
    runScripts: 'outside-only',
    pretendToBeVisual: true,
  });
  const window = dom.window;
  const app = window.document.getElementById('app')!;
  window.addEventListener('message', (event) => {
    const data = event.data as HostToWebview;
    if (data.type !== 'snapshot') return;
    const list = window.document.createElement('div');
    for (const item of data.items) {
      if (item.kind !== 'message') continue;
      const row = window.document.createElement('div');
      const head = window.document.createElement('div');
      head.textContent = `${item.message.from} ${new Date(item.message.sentAt).toLocaleTimeString()}`;
      const body = window.document.createElement('div');
      body.textContent = item.message.body;
      row.append(head, body);
      list.append(row);
    }
    app.replaceChildren(list);
  });
  return {
    send: (message) => window.dispatchEvent(new window.MessageEvent('message', { data: JSON.parse(JSON.stringify(message)) })),
    nodes: () => window.document.querySelectorAll('#app *').length,
    close: () => window.close(),
  };
}
