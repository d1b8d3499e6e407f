import {
  EVERYONE,
  channelOf,
  compareKeys,
  partnerOf,
  privatePartnerOf,
  type ItemKey,
  type TimelineItem,
  type WebviewToHost,
} from '../../view-protocol';
import { TimelineWindow } from '../timeline-window';
import { dayKey, dayLabel, el } from './dom';
import type { MarkdownRenderer } from './markdown';
import { continues, itemTime, keyString, renderMessage, renderNotice } from './timeline-item';

const NEAR_EDGE_PX = 120;
/** Room left above the unread line when the view opens at it: the message before it shows a little. */
const UNREAD_LINE_MARGIN_PX = 24;

/** Where an item with this key goes in items sorted by key: the index of the first one that does not sort before it. */
function indexOfKey(items: readonly TimelineItem[], key: ItemKey): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(items[mid]!.key, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The element on screen for one item. */
interface Shown {
  node: HTMLElement;
  /** What the element shows besides the item itself (whose it is, its tags): it is built again when this changes. */
  context: string;
}

/**
 * One conversation's messages and notices: a window of them in the page (TimelineWindow), older ones asked of
 * the host when the top comes into view, the place kept when items arrive above, and the newest followed while
 * it is in view. New messages from others are announced once, through a live region.
 */
export class Timeline {
  /** Whose view this is: their own messages are marked. */
  me: string | undefined;
  readonly element: HTMLElement;
  readonly jump: HTMLButtonElement;
  /** The live region that announces what arrives; it belongs at the end of the page. */
  readonly live: HTMLElement;
  private readonly olderRow: HTMLElement;
  private readonly list: HTMLElement;
  private conversation = EVERYONE;
  private items: TimelineItem[] = [];
  private readonly keys = new Set<string>();
  private hasOlder = false;
  private loadingOlder = false;
  private readonly window = new TimelineWindow();
  /** The elements of the items in the window, kept from one render to the next (see render). */
  private shown = new Map<TimelineItem, Shown>();
  /** The day separators on screen, by day (and, for a day that comes back, by how many times it did). */
  private days = new Map<string, HTMLElement>();
  private unseen = 0;
  /** Where the "new since you last read" line goes: before the item with this key. */
  private firstUnread: ItemKey | undefined;
  private readonly unreadLine: HTMLElement;
  /** The newest item is in view: keep it there when something arrives or the layout changes. */
  private stick = true;

  constructor(
    private readonly doc: Document,
    private readonly markdown: MarkdownRenderer,
    private readonly post: (message: WebviewToHost) => void,
  ) {
    this.olderRow = el(doc, 'div', { class: 'older' });
    this.list = el(doc, 'div', { class: 'items' });
    this.element = el(
      doc,
      'section',
      // Not role="log": a log is a live region, and a screen reader would read what is re-rendered or paged in
      // as if it were new. New messages are announced once, by `live` below.
      { class: 'timeline', attrs: { 'aria-label': 'Messages', tabindex: '0' } },
      this.olderRow,
      this.list,
    );
    this.unreadLine = el(
      doc,
      'div',
      { class: 'unread-line', attrs: { role: 'separator', 'aria-label': 'New since you last read' } },
      el(doc, 'span', { text: 'New', attrs: { 'aria-hidden': 'true' } }),
    );
    this.jump = el(doc, 'button', { class: 'jump', text: 'New messages', attrs: { type: 'button' } });
    this.jump.hidden = true;
    this.live = el(doc, 'div', { class: 'sr-only', attrs: { 'aria-live': 'polite', 'aria-atomic': 'true' } });

    this.jump.addEventListener('click', () => this.scrollToNewest());
    this.element.addEventListener('scroll', () => this.onScroll());
    this.element.addEventListener('click', (e) => this.onClick(e));
    // The page is laid out again when the view is resized or shown: whoever was at the newest stays there.
    const Observer = doc.defaultView?.ResizeObserver;
    if (Observer) {
      const observer = new Observer(() => {
        if (this.stick) this.scrollToBottom();
      });
      observer.observe(this.element);
      observer.observe(this.list);
    }
  }

  /**
   * Shows a conversation from its newest items, with the line before the first unread one. The line stays while
   * the conversation does (reading it moves the read position, not the line); another conversation clears it.
   */
  show(conversation: string, items: TimelineItem[], hasOlder: boolean, firstUnread?: ItemKey): void {
    const same = conversation === this.conversation;
    const line = same ? (firstUnread ?? this.firstUnread) : firstUnread;
    const newLine = line !== undefined && !(same && this.firstUnread && compareKeys(line, this.firstUnread) === 0);
    this.conversation = conversation;
    this.firstUnread = line;
    this.items = [...items].sort((a, b) => compareKeys(a.key, b.key));
    this.keys.clear();
    for (const item of this.items) this.keys.add(keyString(item));
    this.hasOlder = hasOlder;
    this.loadingOlder = false;
    this.unseen = 0;
    this.window.toBottom(this.items.length);
    this.render();
    // Opened with something new: from the line, unless everything new fits below it anyway.
    if (!(newLine && this.scrollToUnreadLine())) this.scrollToBottom();
    this.maybeLoadOlder();
    if (newLine) this.announceUnread();
  }

  /** Adds items of this conversation: `live` ones as they happen, or a page of older ones (or a refresh). */
  merge(items: TimelineItem[], live: boolean, hasOlder: boolean | undefined): void {
    if (hasOlder !== undefined) this.hasOlder = hasOlder;
    const answeringOlder = !live && this.loadingOlder;
    if (answeringOlder) this.loadingOlder = false;
    // Stay with the newest items if they were on screen, unless these are the older ones asked for.
    const followNewest = !answeringOlder && this.window.atBottom(this.items.length) && (!live || this.stick || this.isNearBottom());
    const indexes: number[] = [];
    const fresh: TimelineItem[] = [];
    for (const item of items) {
      const key = keyString(item);
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      const lo = indexOfKey(this.items, item.key);
      this.items.splice(lo, 0, item);
      for (let k = 0; k < indexes.length; k++) if (indexes[k]! >= lo) indexes[k]!++;
      indexes.push(lo);
      fresh.push(item);
    }
    indexes.sort((a, b) => a - b);
    if (fresh.length === 0) {
      this.renderOlderRow();
      return;
    }
    this.window.inserted(indexes, this.items.length, followNewest);
    if (answeringOlder) this.window.up();
    this.render(true);
    if (followNewest) this.scrollToBottom();
    else if (live) {
      this.unseen += fresh.filter((i) => i.kind === 'message' && i.message.from !== this.me).length;
      this.renderJump();
    }
    if (live) this.announce(fresh);
  }

  // ---- rendering ----

  /**
   * Shows the items in the window. The elements of items already on screen are kept (a screen reader's place,
   * a selection or a focused link stay where they were); only what is new is built and inserted.
   */
  private render(keepAnchor = false): void {
    const anchor = keepAnchor ? this.anchor() : undefined;
    const wanted: HTMLElement[] = [];
    const shown = new Map<TimelineItem, Shown>();
    const days = new Map<string, HTMLElement>();
    const { start, end } = this.window;
    const line = this.unreadLineIndex();
    for (let i = start; i < end; i++) {
      const item = this.items[i]!;
      const previous = i > 0 ? this.items[i - 1] : undefined;
      if (i === line) wanted.push(this.unreadLine);
      const context = this.contextOf(item);
      const before = this.shown.get(item);
      const entry: Shown =
        before?.context === context
          ? before
          : {
              node:
                item.kind === 'message'
                  ? renderMessage(this.doc, this.markdown, item, this.me, this.conversation)
                  : renderNotice(this.doc, item),
              context,
            };
      if (item.kind === 'message') entry.node.classList.toggle('continued', i !== line && continues(previous, item.message));
      const time = itemTime(item);
      const day = dayKey(time);
      if (!previous || dayKey(itemTime(previous)) !== day) {
        // Items are in key order, which is nearly always time order: a day that comes back gets a separator again.
        let id = `${day}#0`;
        for (let n = 1; days.has(id); n++) id = `${day}#${n}`;
        const separator = this.days.get(id) ?? el(this.doc, 'div', { class: 'day', attrs: { role: 'separator' } });
        days.set(id, separator);
        const label = dayLabel(time);
        if (separator.textContent !== label) separator.textContent = label;
        wanted.push(separator);
      }
      wanted.push(entry.node);
      shown.set(item, entry);
    }
    this.shown = shown;
    this.days = days;
    this.place(wanted);
    this.renderOlderRow();
    if (anchor) this.restoreAnchor(anchor);
    this.renderJump();
  }

  /** Makes the list's children exactly `wanted`, in order, moving no element that is already in its place. */
  private place(wanted: HTMLElement[]): void {
    const keep = new Set<Element>(wanted);
    for (const child of [...this.list.children]) if (!keep.has(child)) child.remove();
    let cursor = this.list.firstElementChild;
    for (const node of wanted) {
      if (node === cursor) cursor = cursor.nextElementSibling;
      else this.list.insertBefore(node, cursor);
    }
  }

  /**
   * The index of the item the unread line goes before, or -1: none when nothing unread is loaded, nor when the
   * first unread would be the first item loaded while older ones are still to come (the line may belong above).
   */
  private unreadLineIndex(): number {
    if (!this.firstUnread) return -1;
    const index = indexOfKey(this.items, this.firstUnread);
    return index === this.items.length || (index === 0 && this.hasOlder) ? -1 : index;
  }

  /** Says once, on opening a conversation with something new, how many messages came since the user last read. */
  private announceUnread(): void {
    const line = this.unreadLineIndex();
    if (line < 0) return;
    const count = this.items.slice(line).filter((i) => i.kind === 'message' && i.message.from !== this.me).length;
    if (count > 0) this.live.textContent = `${count} new message${count === 1 ? '' : 's'} since you last read`;
  }

  private contextOf(item: TimelineItem): string {
    if (item.kind === 'notice') return '';
    return `${item.message.from === this.me ? 'own' : ''}|${item.message.kind === 'broadcast' && this.conversation !== EVERYONE ? 'tagged' : ''}`;
  }

  private renderOlderRow(): void {
    const row = this.olderRow;
    row.replaceChildren();
    if (this.window.start > 0) {
      row.hidden = true;
      return;
    }
    row.hidden = false;
    if (this.loadingOlder) row.textContent = 'Loading older messages…';
    else if (this.hasOlder) {
      const button = el(this.doc, 'button', { class: 'link-button', text: 'Load older messages', attrs: { type: 'button' } });
      button.addEventListener('click', () => this.requestOlder());
      row.append(button);
    } else row.textContent = this.items.length ? 'The beginning of this conversation.' : this.emptyText();
  }

  private emptyText(): string {
    const secret = privatePartnerOf(this.conversation);
    if (secret)
      return `Private chat with ${secret}: messages go directly to ${secret}, end-to-end encrypted, and are not stored on the server.`;
    const partner = partnerOf(this.conversation);
    if (partner) return `No messages with ${partner} yet. Say hello!`;
    const channel = channelOf(this.conversation);
    if (channel) return `No messages in #${channel} yet.`;
    return 'No broadcasts yet. What you send here reaches everyone online.';
  }

  private renderJump(): void {
    const behind = !this.window.atBottom(this.items.length) || (this.unseen > 0 && !this.isNearBottom());
    this.jump.hidden = !behind;
    this.jump.textContent = this.unseen > 0 ? `${this.unseen} new message${this.unseen === 1 ? '' : 's'} ↓` : 'Jump to newest ↓';
  }

  private announce(items: TimelineItem[]): void {
    const last = [...items]
      .reverse()
      .find((i) => (i.kind === 'message' && i.message.from !== this.me) || (i.kind === 'notice' && i.tone === 'error'));
    if (!last) return;
    const text = last.kind === 'message' ? `${last.message.from}: ${last.message.body}` : last.text;
    this.live.textContent = text.length > 300 ? `${text.slice(0, 300)}…` : text;
  }

  // ---- scrolling ----

  private isNearBottom(): boolean {
    const t = this.element;
    return t.scrollHeight - t.scrollTop - t.clientHeight < NEAR_EDGE_PX;
  }

  private scrollToBottom(): void {
    this.stick = true;
    this.element.scrollTop = this.element.scrollHeight;
  }

  /** Puts the unread line at the top of the view (if it is in the page); the newest is followed only if in view then. */
  private scrollToUnreadLine(): boolean {
    if (!this.unreadLine.isConnected) return false;
    const t = this.element;
    t.scrollTop += this.unreadLine.getBoundingClientRect().top - t.getBoundingClientRect().top - UNREAD_LINE_MARGIN_PX;
    this.stick = this.isNearBottom();
    return true;
  }

  private scrollToNewest(): void {
    this.unseen = 0;
    this.window.toBottom(this.items.length);
    this.render();
    this.scrollToBottom();
    this.element.focus();
  }

  private anchor(): { key: string; offset: number } | undefined {
    const top = this.element.getBoundingClientRect().top;
    for (const child of this.list.children) {
      const key = child.getAttribute('data-key');
      if (!key) continue;
      const rect = child.getBoundingClientRect();
      if (rect.bottom >= top) return { key, offset: rect.top - top };
    }
    return undefined;
  }

  private restoreAnchor(anchor: { key: string; offset: number }): void {
    const node = [...this.list.children].find((child) => child.getAttribute('data-key') === anchor.key);
    if (!node) return;
    const top = this.element.getBoundingClientRect().top;
    this.element.scrollTop += node.getBoundingClientRect().top - top - anchor.offset;
  }

  private onScroll(): void {
    const t = this.element;
    this.stick = this.window.atBottom(this.items.length) && this.isNearBottom();
    if (t.scrollTop < NEAR_EDGE_PX) {
      if (this.window.up()) this.render(true);
      else this.maybeLoadOlder(true);
    } else if (this.isNearBottom()) {
      if (this.window.down(this.items.length)) this.render(true);
      if (this.window.atBottom(this.items.length)) {
        this.unseen = 0;
        this.renderJump();
      }
    }
  }

  /** Asks for older messages when the top is in sight (or the list does not fill the view). */
  private maybeLoadOlder(scrolled = false): void {
    if (this.window.start > 0 || !this.hasOlder || this.loadingOlder) return;
    const fits = this.element.scrollHeight <= this.element.clientHeight;
    if (scrolled || fits) this.requestOlder();
  }

  private requestOlder(): void {
    if (this.loadingOlder || !this.hasOlder) return;
    this.loadingOlder = true;
    const oldest = this.items[0];
    this.post({ type: 'loadOlder', conversation: this.conversation, ...(oldest && { before: oldest.key }) });
    this.renderOlderRow();
  }

  /** Links are opened by the host, which decides what a link may open. */
  private onClick(event: MouseEvent): void {
    const anchor = (event.target as Element | null)?.closest?.('a');
    if (!anchor) return;
    event.preventDefault();
    const href = anchor.getAttribute('href');
    if (href) this.post({ type: 'openLink', href });
  }
}
