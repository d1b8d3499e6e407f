import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { HostToWebview, ItemKey, TimelineItem } from '../src/view-protocol';
import { openWebview, signedInSnapshot, type WebviewPage } from './helpers/webview-dom';

const NOW = new Date(2024, 9, 27, 12, 0).getTime();

function message(seq: number, from = 'bob'): TimelineItem {
  return {
    kind: 'message',
    key: [seq, 0],
    message: { id: seq, from, to: null, kind: 'channel', channel: 'general', seq, body: `message ${seq}`, sentAt: NOW - 60_000 + seq },
  };
}

const range = (from: number, to: number, sender?: (seq: number) => string): TimelineItem[] =>
  Array.from({ length: to - from + 1 }, (_, i) => message(from + i, sender?.(from + i)));

function snapshot(items: TimelineItem[], firstUnread?: ItemKey, hasOlder = false): HostToWebview {
  return signedInSnapshot({
    conversations: [
      { id: 'everyone', title: 'Everyone', kind: 'everyone', unread: 0, online: false, blocked: false },
      { id: 'channel:general', title: 'general', kind: 'channel', unread: 0, online: false, blocked: false },
      { id: 'channel:random', title: 'random', kind: 'channel', unread: 0, online: false, blocked: false },
    ],
    active: 'channel:general',
    items,
    hasOlder,
    ...(firstUnread && { firstUnread }),
  });
}

describe('chat webview: the "new since you last read" line (the real bundle in jsdom)', () => {
  const pages: WebviewPage[] = [];
  const open = async (): Promise<WebviewPage> => {
    const page = await openWebview({ now: NOW });
    pages.push(page);
    return page;
  };
  after(() => pages.forEach((p) => p.close()));

  /** What the timeline shows, in order: message keys, and LINE where the line is. */
  const shown = (page: WebviewPage): string[] =>
    page
      .all('.items > *')
      .flatMap((node) =>
        node.classList.contains('unread-line') ? ['LINE'] : node.classList.contains('message') ? [node.getAttribute('data-key')!] : [],
      );
  const live = (page: WebviewPage): string => page.document.querySelector('[aria-live="polite"]')!.textContent ?? '';

  test('drawn before the first unread message, as a labelled separator, and said once with how many are new', async () => {
    const page = await open();
    // Bob wrote 1-10; alice answered at 7 (her own message is not news to her).
    page.send(
      snapshot(
        range(1, 10, (seq) => (seq === 7 ? 'alice' : 'bob')),
        [5, 0],
      ),
    );
    assert.deepEqual(shown(page), ['1:0', '2:0', '3:0', '4:0', 'LINE', '5:0', '6:0', '7:0', '8:0', '9:0', '10:0']);
    const line = page.all('.unread-line')[0]!;
    assert.equal(line.getAttribute('role'), 'separator');
    assert.equal(line.getAttribute('aria-label'), 'New since you last read');
    assert.equal(live(page), '5 new messages since you last read');
    const first = page.all('.message[data-key="5:0"]')[0]!;
    assert.equal(first.classList.contains('continued'), false, 'the first unread message shows its sender again');
    assert.equal(page.all('.message[data-key="6:0"]')[0]!.classList.contains('continued'), true);
  });

  test('the view opens at the line when what is new does not fit below it, and at the newest when it does', async () => {
    const page = await open();
    // jsdom lays nothing out: a 300 px view over 2,000 px of messages, the line 1,500 px down from the top.
    const doc = page.document;
    const timeline = doc.querySelector<HTMLElement>('.timeline')!;
    let top = 0;
    let lineAt = 1500;
    Object.defineProperty(timeline, 'clientHeight', { configurable: true, get: () => 300 });
    Object.defineProperty(timeline, 'scrollHeight', { configurable: true, get: () => 2000 });
    Object.defineProperty(timeline, 'scrollTop', {
      configurable: true,
      get: () => top,
      set: (v: number) => (top = Math.max(0, Math.min(v, 1700))),
    });
    const rect = page.window.HTMLElement.prototype.getBoundingClientRect;
    page.window.HTMLElement.prototype.getBoundingClientRect = function (this: HTMLElement) {
      const y = this.classList.contains('unread-line') ? lineAt - top : 0;
      return { top: y, bottom: y + 10, left: 0, right: 0, width: 0, height: 10, x: 0, y, toJSON: () => ({}) } as DOMRect;
    };
    try {
      page.send(snapshot(range(1, 40), [30, 0]));
      assert.equal(top, 1500 - 24, 'the line near the top of the view');
      assert.equal((doc.querySelector('.jump') as HTMLElement).hidden, true);
      // Something arrives while the user reads from the line: they are not taken away from it.
      page.send({ type: 'items', conversation: 'channel:general', items: range(41, 41), live: true });
      assert.equal(top, 1500 - 24);
      assert.equal(doc.querySelector('.jump')!.textContent, '1 new message ↓');

      lineAt = 1900;
      page.send({ type: 'timeline', conversation: 'channel:random', items: range(1, 40), hasOlder: false, firstUnread: [39, 0] });
      assert.equal(top, 1700, 'at the newest: all that is new fits');
    } finally {
      page.window.HTMLElement.prototype.getBoundingClientRect = rect;
    }
  });

  test('kept while the conversation stays open, through new messages and a timeline without one; gone with another conversation', async () => {
    const page = await open();
    page.send(snapshot(range(1, 5), [4, 0]));
    page.send({ type: 'items', conversation: 'channel:general', items: range(6, 7), live: true });
    assert.deepEqual(shown(page), ['1:0', '2:0', '3:0', 'LINE', '4:0', '5:0', '6:0', '7:0']);
    assert.equal(live(page), 'bob: message 7', 'new messages are announced as always');

    // Read now: the host's next timeline of the same conversation has no line; it stays where it was.
    page.send({ type: 'timeline', conversation: 'channel:general', items: range(1, 7), hasOlder: false });
    assert.deepEqual(shown(page), ['1:0', '2:0', '3:0', 'LINE', '4:0', '5:0', '6:0', '7:0']);
    assert.equal(live(page), 'bob: message 7', 'the same line is not said again');

    page.send({ type: 'timeline', conversation: 'channel:random', items: range(1, 3), hasOlder: false });
    assert.deepEqual(shown(page), ['1:0', '2:0', '3:0']);
    page.send({ type: 'timeline', conversation: 'channel:general', items: range(1, 7), hasOlder: false });
    assert.deepEqual(shown(page), ['1:0', '2:0', '3:0', '4:0', '5:0', '6:0', '7:0'], 'gone for good');

    // Another conversation's line replaces it, and is said.
    page.send({ type: 'timeline', conversation: 'channel:random', items: range(1, 3), hasOlder: false, firstUnread: [3, 0] });
    assert.deepEqual(shown(page), ['1:0', '2:0', 'LINE', '3:0']);
    assert.equal(live(page), '1 new message since you last read');
  });

  test('not drawn above the oldest loaded message while older ones are still to come; drawn once they are loaded', async () => {
    const page = await open();
    page.send(snapshot(range(51, 60), [45, 0], true));
    assert.deepEqual(page.all('.unread-line'), [], 'the first unread message is not loaded yet');
    page.send({ type: 'items', conversation: 'channel:general', items: range(41, 50), live: false, hasOlder: true });
    assert.equal(shown(page).indexOf('LINE'), shown(page).indexOf('45:0') - 1);

    // Nothing older: every message loaded is new, and the line is at the top.
    const other = await open();
    other.send(snapshot(range(1, 3), [1, 0]));
    assert.deepEqual(shown(other), ['LINE', '1:0', '2:0', '3:0']);
    assert.equal(live(other), '3 new messages since you last read');
  });

  test('before the next message when the first unread one is not shown (a blocked sender), and nowhere when none is', async () => {
    const page = await open();
    page.send(snapshot([...range(1, 3), ...range(6, 8)], [4, 0]));
    assert.deepEqual(shown(page), ['1:0', '2:0', '3:0', 'LINE', '6:0', '7:0', '8:0']);
    const none = await open();
    none.send(snapshot(range(1, 3), [9, 0]));
    assert.deepEqual(none.all('.unread-line'), []);
    assert.equal(live(none), '');
  });
});
