/**
 * The client side (issue 6): what the extension ships and how fast the chat view renders a long
 * conversation. Runs in the orchestrator's process. The render baseline is the naive list: the same
 * snapshot of 10,000 messages rendered as one element per message, in the same kind of jsdom page.
 */
import { statSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { JSDOM } from 'jsdom';
import type { HostToWebview, TimelineItem } from '../src/view-protocol';
import { openWebview } from '../test/helpers/webview-dom';
import { spread, type Spread } from './stats';

export interface ClientResult {
  /** Bytes of dist/ files as packaged (minified), and gzipped. */
  bundles: { file: string; bytes: number; gzipBytes: number }[];
  render: { messages: number; parleyMs: Spread; naiveMs: Spread; parleyNodes: number; naiveNodes: number };
}

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
  return { bundles, render: { messages, parleyMs: spread(parley), naiveMs: spread(naive), parleyNodes, naiveNodes } };
}

function snapshot(count: number): HostToWebview {
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
  } as HostToWebview;
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
