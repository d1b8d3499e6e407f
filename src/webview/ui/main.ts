import * as z from 'zod/mini';
import { complete, type CompletionResult } from '../completion';
import { createMarkdown, type MarkdownRenderer } from './markdown';
import {
  EVERYONE,
  compareKeys,
  parseHostMessage,
  partnerOf,
  privatePartnerOf,
  type PrivateState,
  type ConnectionView,
  type ConversationSummary,
  type HostAction,
  type HostToWebview,
  type TimelineItem,
  type WebviewToHost,
} from '../protocol';
import { TimelineWindow } from '../timeline-window';

/**
 * The chat webview: renders what the extension host sends and posts back what the user does.
 * It holds no chat state of its own beyond the conversation on screen and the drafts (kept with
 * setState, so that they survive the page being discarded while hidden).
 */

// zod compiles validators with `new Function` unless told not to; the CSP forbids eval.
z.config({ jitless: true });

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  active?: string;
  drafts?: Record<string, string>;
}

const GROUP_GAP_MS = 5 * 60_000;
const NEAR_EDGE_PX = 120;

const savedSchema = z.object({
  active: z.optional(z.string().check(z.maxLength(64))),
  drafts: z.optional(z.record(z.string().check(z.maxLength(64)), z.string().check(z.maxLength(10_000)))),
});

function el<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  options: { class?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = doc.createElement(tag);
  if (options.class) node.className = options.class;
  if (options.text !== undefined) node.textContent = options.text;
  for (const [name, value] of Object.entries(options.attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) node.appendChild(child);
  return node;
}

function dayKey(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

function itemTime(item: TimelineItem): number {
  return item.kind === 'message' ? item.message.sentAt : item.at;
}

function keyString(item: TimelineItem): string {
  return `${item.key[0]}:${item.key[1]}`;
}

/** A message from the same sender, of the same kind, soon after the one before: shown without its header. */
function continues(previous: TimelineItem | undefined, m: Extract<TimelineItem, { kind: 'message' }>['message']): boolean {
  return (
    previous?.kind === 'message' &&
    previous.message.from === m.from &&
    previous.message.kind === m.kind &&
    m.sentAt - previous.message.sentAt < GROUP_GAP_MS &&
    dayKey(previous.message.sentAt) === dayKey(m.sentAt)
  );
}

/** The element on screen for one item. */
interface Shown {
  node: HTMLElement;
  /** What the element shows besides the item itself (whose it is, its tags): it is built again when this changes. */
  context: string;
}

export class ChatApp {
  private readonly doc: Document;
  private readonly markdown: MarkdownRenderer;
  private me: string | undefined;
  private connection: ConnectionView = { phase: 'signed-out' };
  private conversations: ConversationSummary[] = [];
  private active = EVERYONE;
  private items: TimelineItem[] = [];
  private readonly keys = new Set<string>();
  private hasOlder = false;
  private loadingOlder = false;
  private usernames: string[] = [];
  private drafts: Record<string, string> = {};
  private nextRequest = 1;
  private readonly pending = new Map<number, { conversation: string; text: string }>();
  private readonly window = new TimelineWindow();
  /** The elements of the items in the window, kept from one render to the next (see renderItems). */
  private shown = new Map<TimelineItem, Shown>();
  /** The day separators on screen, by day (and, for a day that comes back, by how many times it did). */
  private days = new Map<string, HTMLElement>();
  private completion: (CompletionResult & { selected: number; chosen: boolean }) | undefined;
  private unseen = 0;
  /** The newest item is in view: keep it there when something arrives or the layout changes. */
  private stick = true;

  // Elements
  private readonly nav: HTMLElement;
  private readonly banner: HTMLElement;
  /** Above the timeline of a private chat: the lock, the channel state, and that nothing is stored on the server. */
  private readonly header: HTMLElement;
  private readonly welcome: HTMLElement;
  private readonly welcomeText: HTMLElement;
  private readonly timeline: HTMLElement;
  private readonly olderRow: HTMLElement;
  private readonly list: HTMLElement;
  private readonly jump: HTMLButtonElement;
  private readonly completions: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly composerError: HTMLElement;
  private readonly live: HTMLElement;
  /** What the banner and the header say: they are status regions, so they are written only when that changes. */
  private bannerShows = '';
  private headerShows = '';

  constructor(
    private readonly root: HTMLElement,
    private readonly vscode: VsCodeApi,
  ) {
    this.doc = root.ownerDocument;
    this.markdown = createMarkdown(this.doc);
    const doc = this.doc;
    const saved = savedSchema.safeParse(vscode.getState() ?? {});
    if (saved.success) {
      if (saved.data.active) this.active = saved.data.active;
      this.drafts = saved.data.drafts ?? {};
    }

    this.nav = el(doc, 'nav', { class: 'conversations', attrs: { role: 'tablist', 'aria-label': 'Conversations' } });
    this.banner = el(doc, 'div', { class: 'banner', attrs: { role: 'status' } });
    this.banner.hidden = true;
    this.header = el(doc, 'div', { class: 'conversation-header', attrs: { role: 'status' } });
    this.header.hidden = true;
    this.welcomeText = el(doc, 'p', { class: 'welcome-text' });
    this.welcome = el(
      doc,
      'section',
      { class: 'welcome', attrs: { 'aria-label': 'Not connected' } },
      el(doc, 'h2', { text: 'Parley' }),
      this.welcomeText,
      this.actionButton('connect', 'Connect to Server…', 'plug'),
      this.actionButton('startLocalServer', 'Start Local Server', 'server-process'),
    );
    this.welcome.hidden = true;
    this.olderRow = el(doc, 'div', { class: 'older' });
    this.list = el(doc, 'div', { class: 'items' });
    this.timeline = el(
      doc,
      'section',
      // Not role="log": a log is a live region, and a screen reader would read what is re-rendered or paged in
      // as if it were new. New messages are announced once, by `live` below.
      { class: 'timeline', attrs: { 'aria-label': 'Messages', tabindex: '0' } },
      this.olderRow,
      this.list,
    );
    this.jump = el(doc, 'button', { class: 'jump', text: 'New messages', attrs: { type: 'button' } });
    this.jump.hidden = true;
    this.completions = el(doc, 'ul', {
      class: 'completions',
      attrs: { role: 'listbox', id: 'parley-completions', 'aria-label': 'Suggestions' },
    });
    this.completions.hidden = true;
    this.input = el(doc, 'textarea', {
      class: 'input',
      attrs: {
        rows: '1',
        'aria-label': 'Message',
        'aria-autocomplete': 'list',
        'aria-controls': 'parley-completions',
        spellcheck: 'true',
      },
    });
    this.sendButton = el(
      doc,
      'button',
      { class: 'send', attrs: { type: 'button', title: 'Send (Enter)', 'aria-label': 'Send' } },
      el(doc, 'span', { class: 'codicon codicon-send', attrs: { 'aria-hidden': 'true' } }),
    );
    this.composerError = el(doc, 'div', { class: 'composer-error', attrs: { role: 'alert' } });
    this.live = el(doc, 'div', { class: 'sr-only', attrs: { 'aria-live': 'polite', 'aria-atomic': 'true' } });
    const composer = el(
      doc,
      'div',
      { class: 'composer' },
      this.completions,
      el(doc, 'div', { class: 'composer-row' }, this.input, this.sendButton),
      this.composerError,
    );
    root.append(this.nav, this.banner, this.header, this.welcome, this.timeline, this.jump, composer, this.live);
    root.classList.add('chat');

    this.input.addEventListener('keydown', (e) => this.onKeyDown(e));
    this.input.addEventListener('input', () => this.onInput());
    this.input.addEventListener('blur', () => this.closeCompletion());
    this.sendButton.addEventListener('click', () => this.send());
    this.jump.addEventListener('click', () => this.scrollToNewest());
    this.timeline.addEventListener('scroll', () => this.onScroll());
    // The page is laid out again when the view is resized or shown: whoever was at the newest stays there.
    const Observer = this.doc.defaultView?.ResizeObserver;
    if (Observer) {
      const observer = new Observer(() => {
        if (this.stick) this.scrollToBottom();
      });
      observer.observe(this.timeline);
      observer.observe(this.list);
    }
    this.timeline.addEventListener('click', (e) => this.onClick(e));
    this.completions.addEventListener('mousedown', (e) => {
      // Keep the focus in the textarea; pick what was clicked.
      e.preventDefault();
      const index = Number((e.target as Element).closest('li')?.getAttribute('data-index'));
      if (!Number.isNaN(index)) this.accept(index);
    });
    this.doc.defaultView?.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    this.updateComposer();
    this.restoreDraft();
    const remembered = saved.success ? saved.data.active : undefined;
    this.post(remembered ? { type: 'ready', active: this.active } : { type: 'ready' });
  }

  // ---- from the host ----

  receive(data: unknown): void {
    const parsed = parseHostMessage(data);
    if (!parsed.ok) {
      console.warn(`Parley: ignored a malformed message from the extension: ${parsed.error}`);
      return;
    }
    this.handle(parsed.message);
  }

  private handle(message: HostToWebview): void {
    switch (message.type) {
      case 'snapshot':
        this.me = message.me;
        this.connection = message.connection;
        this.conversations = message.conversations;
        this.usernames = message.usernames;
        this.switchTo(message.active, message.items, message.hasOlder);
        this.renderConnection();
        this.renderConversations();
        return;
      case 'connection':
        this.me = message.me;
        this.connection = message.connection;
        this.renderConnection();
        return;
      case 'conversations':
        this.conversations = message.conversations;
        this.renderConversations();
        return;
      case 'usernames':
        this.usernames = message.usernames;
        return;
      case 'timeline':
        this.switchTo(message.conversation, message.items, message.hasOlder);
        this.renderConversations();
        return;
      case 'items': {
        if (message.conversation !== this.active) return;
        if (message.hasOlder !== undefined) this.hasOlder = message.hasOlder;
        const answeringOlder = !message.live && this.loadingOlder;
        if (answeringOlder) this.loadingOlder = false;
        this.merge(message.items, message.live, answeringOlder);
        return;
      }
      case 'sendResult': {
        const sent = this.pending.get(message.requestId);
        this.pending.delete(message.requestId);
        if (!message.ok && sent) {
          if (sent.conversation === this.active && !this.input.value) {
            this.input.value = sent.text;
            this.onInput();
          }
          this.composerError.textContent = message.error ?? 'Not sent.';
        }
        return;
      }
      case 'focusComposer':
        if (message.text !== undefined) {
          this.input.value = message.text;
          this.onInput();
        }
        this.input.focus();
        return;
    }
  }

  private switchTo(conversation: string, items: TimelineItem[], hasOlder: boolean): void {
    if (conversation !== this.active) {
      this.saveDraft();
      this.active = conversation;
      this.restoreDraft();
    }
    this.items = [...items].sort((a, b) => compareKeys(a.key, b.key));
    this.keys.clear();
    for (const item of this.items) this.keys.add(keyString(item));
    this.hasOlder = hasOlder;
    this.loadingOlder = false;
    this.unseen = 0;
    this.window.toBottom(this.items.length);
    this.saveState();
    this.renderHeader();
    this.renderItems();
    this.scrollToBottom();
    this.updateComposer();
    this.maybeLoadOlder();
  }

  private merge(items: TimelineItem[], live: boolean, answeringOlder: boolean): void {
    // Stay with the newest items if they were on screen, unless these are the older ones asked for.
    const followNewest = !answeringOlder && this.window.atBottom(this.items.length) && (!live || this.stick || this.isNearBottom());
    const indexes: number[] = [];
    const fresh: TimelineItem[] = [];
    for (const item of items) {
      const key = keyString(item);
      if (this.keys.has(key)) continue;
      this.keys.add(key);
      let lo = 0;
      let hi = this.items.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareKeys(this.items[mid]!.key, item.key) < 0) lo = mid + 1;
        else hi = mid;
      }
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
    this.renderItems(true);
    if (followNewest) this.scrollToBottom();
    else if (live) {
      this.unseen += fresh.filter((i) => i.kind === 'message' && i.message.from !== this.me).length;
      this.renderJump();
    }
    if (live) this.announce(fresh);
  }

  // ---- rendering ----

  private renderConnection(): void {
    const { phase, message, url } = this.connection;
    const banner = this.banner;
    const showing = phase === 'reconnecting' || phase === 'connecting' || phase === 'private-only';
    banner.hidden = !showing;
    banner.className = showing ? `banner ${phase}` : 'banner';
    const words = !showing
      ? ''
      : phase === 'connecting'
        ? `Connecting to ${url ?? 'the server'}…`
        : phase === 'private-only'
          ? (message ?? 'Signed out; private chats stay open.')
          : (message ?? 'Connection lost; reconnecting…');
    // Nothing is on its way while only private chats are left: a lock, not a spinner.
    const icon = phase === 'private-only' ? 'codicon codicon-lock' : 'codicon codicon-sync codicon-modifier-spin';
    if (this.bannerShows !== `${icon}\n${words}`) {
      this.bannerShows = `${icon}\n${words}`;
      banner.replaceChildren();
      if (showing)
        banner.append(el(this.doc, 'span', { class: icon, attrs: { 'aria-hidden': 'true' } }), el(this.doc, 'span', { text: ` ${words}` }));
    }
    const signedOut = phase === 'signed-out';
    this.welcome.hidden = !signedOut;
    this.welcomeText.textContent = message ?? 'Not connected. Join a Parley server, or start one on this machine for your team.';
    this.timeline.hidden = signedOut;
    this.nav.hidden = signedOut;
    this.renderHeader();
    this.updateComposer();
  }

  private renderConversations(): void {
    const doc = this.doc;
    // Rebuilding the tabs must not take the keyboard focus away from the one that had it.
    const focused = (doc.activeElement as HTMLElement | null)?.closest?.('.conversation') as HTMLElement | null;
    const focusedId = focused && this.nav.contains(focused) ? focused.dataset.id : undefined;
    this.nav.replaceChildren(
      ...this.conversations.map((c) => {
        const selected = c.id === this.active;
        const icon = c.kind === 'everyone' ? 'broadcast' : c.kind === 'private' ? 'lock' : c.online ? 'circle-filled' : 'circle-outline';
        const button = el(
          doc,
          'button',
          {
            class: `conversation${selected ? ' selected' : ''}${c.online ? ' online' : ''}${c.blocked ? ' blocked' : ''}${c.kind === 'private' ? ` private ${c.privateState ?? 'closed'}` : ''}`,
            attrs: { type: 'button', role: 'tab', 'aria-selected': String(selected), 'data-id': c.id, tabindex: selected ? '0' : '-1' },
          },
          el(doc, 'span', { class: `codicon codicon-${icon}`, attrs: { 'aria-hidden': 'true' } }),
          el(doc, 'span', { class: 'title', text: c.title }),
        );
        const label = [
          c.title,
          c.kind === 'direct' ? (c.online ? 'online' : 'offline') : c.kind === 'private' ? 'private chat' : 'broadcasts',
        ];
        if (c.kind === 'private') {
          const state = c.privateState ?? 'closed';
          button.append(el(doc, 'span', { class: 'tag direct', text: 'direct' }));
          if (state !== 'direct') button.append(el(doc, 'span', { class: `tag state ${state}`, text: state }));
          label.push(PRIVATE_STATE_WORDS[state]);
        }
        if (c.blocked) {
          button.append(el(doc, 'span', { class: 'tag', text: 'blocked' }));
          label.push('blocked');
        }
        if (c.unread > 0) {
          button.append(el(doc, 'span', { class: 'unread', text: String(c.unread) }));
          label.push(`${c.unread} unread`);
        }
        button.setAttribute('aria-label', label.join(', '));
        button.addEventListener('click', () => this.select(c.id));
        button.addEventListener('keydown', (e) => this.onTabKey(e, c.id));
        return button;
      }),
    );
    if (focusedId !== undefined) {
      for (const button of this.nav.querySelectorAll<HTMLElement>('[data-id]')) if (button.dataset.id === focusedId) button.focus();
    }
    this.renderHeader();
  }

  /** The private chat's header: lock, who, the channel state, and that messages are not stored on the server. */
  private renderHeader(): void {
    const doc = this.doc;
    const partner = privatePartnerOf(this.active);
    const summary = this.conversations.find((c) => c.id === this.active);
    this.header.hidden = partner === undefined || this.connection.phase === 'signed-out';
    if (partner === undefined) {
      this.headerShows = '';
      this.header.replaceChildren();
      return;
    }
    const state = summary?.privateState ?? 'closed';
    const shows = `${partner}|${state}`;
    if (this.headerShows !== shows) {
      this.headerShows = shows;
      this.header.className = `conversation-header private ${state}`;
      this.header.replaceChildren(
        el(doc, 'span', {
          class: `codicon codicon-${state === 'connecting' ? 'sync codicon-modifier-spin' : 'lock'}`,
          attrs: { 'aria-hidden': 'true' },
        }),
        el(doc, 'span', { class: 'title', text: ` Private chat with ${partner}` }),
        el(doc, 'span', { class: `tag state ${state}`, text: PRIVATE_STATE_WORDS[state] }),
        el(doc, 'span', { class: 'hint', text: 'not stored on the server' }),
      );
    }
    this.updateComposer();
  }

  private onTabKey(event: KeyboardEvent, id: string): void {
    const index = this.conversations.findIndex((c) => c.id === id);
    let next = -1;
    if (event.key === 'ArrowRight' || event.key === 'ArrowDown') next = (index + 1) % this.conversations.length;
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp')
      next = (index - 1 + this.conversations.length) % this.conversations.length;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = this.conversations.length - 1;
    if (next < 0) return;
    event.preventDefault();
    const target = this.conversations[next]!;
    this.select(target.id);
    for (const button of this.nav.querySelectorAll<HTMLElement>('[data-id]')) if (button.dataset.id === target.id) button.focus();
  }

  private select(conversation: string): void {
    if (conversation === this.active) return;
    this.post({ type: 'select', conversation });
  }

  /**
   * Shows the items in the window. The elements of items already on screen are kept (a screen reader's place,
   * a selection or a focused link stay where they were); only what is new is built and inserted.
   */
  private renderItems(keepAnchor = false): void {
    const anchor = keepAnchor ? this.anchor() : undefined;
    const wanted: HTMLElement[] = [];
    const shown = new Map<TimelineItem, Shown>();
    const days = new Map<string, HTMLElement>();
    const { start, end } = this.window;
    for (let i = start; i < end; i++) {
      const item = this.items[i]!;
      const previous = i > 0 ? this.items[i - 1] : undefined;
      const context = this.contextOf(item);
      const before = this.shown.get(item);
      const entry: Shown =
        before?.context === context
          ? before
          : { node: item.kind === 'message' ? this.renderMessage(item) : this.renderNotice(item), context };
      if (item.kind === 'message') entry.node.classList.toggle('continued', continues(previous, item.message));
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

  private contextOf(item: TimelineItem): string {
    if (item.kind === 'notice') return '';
    return `${item.message.from === this.me ? 'own' : ''}|${item.message.kind === 'broadcast' && this.active !== EVERYONE ? 'tagged' : ''}`;
  }

  private renderMessage(item: Extract<TimelineItem, { kind: 'message' }>): HTMLElement {
    const doc = this.doc;
    const m = item.message;
    const own = m.from === this.me;
    const date = new Date(m.sentAt);
    const header = el(
      doc,
      'header',
      { class: 'meta' },
      el(doc, 'span', { class: 'from', text: own ? `${m.from} (you)` : m.from }),
      el(doc, 'time', { text: timeLabel(m.sentAt), attrs: { datetime: date.toISOString(), title: date.toLocaleString() } }),
    );
    if (m.kind === 'broadcast' && this.active !== EVERYONE) header.append(el(doc, 'span', { class: 'tag', text: 'broadcast' }));
    if (m.kind === 'private') {
      header.append(
        el(
          doc,
          'span',
          { class: 'tag private', attrs: { title: 'Sent directly, end-to-end encrypted; not stored on the server' } },
          el(doc, 'span', { class: 'codicon codicon-lock', attrs: { 'aria-hidden': 'true' } }),
          el(doc, 'span', { text: ' private' }),
        ),
      );
    }
    const body = el(doc, 'div', { class: 'body' });
    body.append(this.markdown.render(m.body));
    return el(
      doc,
      'article',
      { class: `message${own ? ' own' : ''}${m.kind === 'private' ? ' private' : ''}`, attrs: { 'data-key': keyString(item) } },
      header,
      body,
    );
  }

  private renderNotice(item: Extract<TimelineItem, { kind: 'notice' }>): HTMLElement {
    const doc = this.doc;
    const date = new Date(item.at);
    return el(
      doc,
      'div',
      // No role="alert": an error that arrives is announced by the live region, once (see announce).
      { class: `notice ${item.tone}`, attrs: { 'data-key': keyString(item) } },
      el(doc, 'span', { class: 'text', text: item.text }),
      el(doc, 'time', { text: timeLabel(item.at), attrs: { datetime: date.toISOString() } }),
    );
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
    const secret = privatePartnerOf(this.active);
    if (secret)
      return `Private chat with ${secret}: messages go directly to ${secret}, end-to-end encrypted, and are not stored on the server.`;
    const partner = partnerOf(this.active);
    if (partner) return `No messages with ${partner} yet. Say hello!`;
    return 'No broadcasts yet. What you send here reaches everyone online.';
  }

  private renderJump(): void {
    const behind = !this.window.atBottom(this.items.length) || (this.unseen > 0 && !this.isNearBottom());
    this.jump.hidden = !behind;
    this.jump.textContent = this.unseen > 0 ? `${this.unseen} new message${this.unseen === 1 ? '' : 's'} ↓` : 'Jump to newest ↓';
  }

  private updateComposer(): void {
    const phase = this.connection.phase;
    const secret = privatePartnerOf(this.active);
    // Private chats need no server: while only they are left, their conversations can still be written in.
    const signedIn = phase === 'signed-in' || phase === 'reconnecting' || (phase === 'private-only' && secret !== undefined);
    this.input.disabled = !signedIn;
    this.sendButton.disabled = !signedIn;
    const partner = partnerOf(this.active);
    const state = this.conversations.find((c) => c.id === this.active)?.privateState ?? 'closed';
    this.input.placeholder = !signedIn
      ? phase === 'private-only'
        ? 'Signed out: only private chats are open'
        : 'Not connected'
      : secret
        ? state === 'direct'
          ? `Message ${secret} privately (direct, not stored on the server)`
          : `The private chat with ${secret} is ${state}; "startprivate ${secret}" opens it`
        : partner
          ? `Message ${partner}`
          : 'Message everyone online';
    this.input.title = 'Enter sends, Shift+Enter adds a line; "help" lists the commands';
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
    const t = this.timeline;
    return t.scrollHeight - t.scrollTop - t.clientHeight < NEAR_EDGE_PX;
  }

  private scrollToBottom(): void {
    this.stick = true;
    this.timeline.scrollTop = this.timeline.scrollHeight;
  }

  private scrollToNewest(): void {
    this.unseen = 0;
    this.window.toBottom(this.items.length);
    this.renderItems();
    this.scrollToBottom();
    this.timeline.focus();
  }

  private anchor(): { key: string; offset: number } | undefined {
    const top = this.timeline.getBoundingClientRect().top;
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
    const top = this.timeline.getBoundingClientRect().top;
    this.timeline.scrollTop += node.getBoundingClientRect().top - top - anchor.offset;
  }

  private onScroll(): void {
    const t = this.timeline;
    this.stick = this.window.atBottom(this.items.length) && this.isNearBottom();
    if (t.scrollTop < NEAR_EDGE_PX) {
      if (this.window.up()) this.renderItems(true);
      else this.maybeLoadOlder(true);
    } else if (this.isNearBottom()) {
      if (this.window.down(this.items.length)) this.renderItems(true);
      if (this.window.atBottom(this.items.length)) {
        this.unseen = 0;
        this.renderJump();
      }
    }
  }

  /** Asks for older messages when the top is in sight (or the list does not fill the view). */
  private maybeLoadOlder(scrolled = false): void {
    if (this.window.start > 0 || !this.hasOlder || this.loadingOlder) return;
    const fits = this.timeline.scrollHeight <= this.timeline.clientHeight;
    if (scrolled || fits) this.requestOlder();
  }

  private requestOlder(): void {
    if (this.loadingOlder || !this.hasOlder) return;
    this.loadingOlder = true;
    const oldest = this.items[0];
    this.post({ type: 'loadOlder', conversation: this.active, ...(oldest && { before: oldest.key }) });
    this.renderOlderRow();
  }

  // ---- links ----

  private onClick(event: MouseEvent): void {
    const anchor = (event.target as Element | null)?.closest?.('a');
    if (!anchor) return;
    event.preventDefault();
    const href = anchor.getAttribute('href');
    if (href) this.post({ type: 'openLink', href });
  }

  // ---- composer ----

  private onKeyDown(event: KeyboardEvent): void {
    const completion = this.completion;
    if (completion) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const n = completion.items.length;
        completion.selected = (completion.selected + (event.key === 'ArrowDown' ? 1 : n - 1)) % n;
        completion.chosen = true;
        this.renderCompletion();
        return;
      }
      if (event.key === 'Tab' || (event.key === 'Enter' && completion.chosen && !event.shiftKey)) {
        event.preventDefault();
        this.accept(completion.selected);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        this.closeCompletion();
        return;
      }
    }
    // Enter sends; Shift+Enter is a new line; nothing happens while an input method is composing.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      this.send();
    }
  }

  private onInput(): void {
    const lines = this.input.value.split('\n').length;
    this.input.rows = Math.min(8, Math.max(1, lines));
    this.composerError.textContent = '';
    const result = complete(this.input.value, this.input.selectionStart ?? this.input.value.length, this.usernames);
    this.completion = result ? { ...result, selected: 0, chosen: false } : undefined;
    this.renderCompletion();
    this.saveDraft();
  }

  private renderCompletion(): void {
    const completion = this.completion;
    this.completions.hidden = !completion;
    if (!completion) {
      this.completions.replaceChildren();
      this.input.removeAttribute('aria-activedescendant');
      return;
    }
    this.completions.replaceChildren(
      ...completion.items.map((item, index) => {
        const li = el(
          this.doc,
          'li',
          {
            class: index === completion.selected ? 'selected' : '',
            attrs: {
              role: 'option',
              id: `parley-completion-${index}`,
              'data-index': String(index),
              'aria-selected': String(index === completion.selected),
            },
          },
          el(this.doc, 'span', { class: 'label', text: item.label }),
        );
        if (item.detail) li.append(el(this.doc, 'span', { class: 'detail', text: item.detail }));
        return li;
      }),
    );
    this.input.setAttribute('aria-activedescendant', `parley-completion-${completion.selected}`);
  }

  private accept(index: number): void {
    const completion = this.completion;
    const item = completion?.items[index];
    if (!completion || !item) return;
    const value = this.input.value;
    this.input.value = value.slice(0, completion.from) + item.insert + value.slice(completion.to);
    const cursor = completion.from + item.insert.length;
    this.input.setSelectionRange(cursor, cursor);
    this.onInput();
  }

  private closeCompletion(): void {
    this.completion = undefined;
    this.renderCompletion();
  }

  private send(): void {
    const text = this.input.value;
    if (!text.trim()) return;
    if (this.input.disabled) return;
    const requestId = this.nextRequest++;
    this.pending.set(requestId, { conversation: this.active, text });
    this.post({ type: 'send', requestId, conversation: this.active, text });
    this.input.value = '';
    this.onInput();
    this.closeCompletion();
  }

  // ---- state kept through hide/show ----

  private saveDraft(): void {
    if (this.input.value) this.drafts[this.active] = this.input.value;
    else delete this.drafts[this.active];
    this.saveState();
  }

  private restoreDraft(): void {
    this.input.value = this.drafts[this.active] ?? '';
    this.input.rows = Math.min(8, Math.max(1, this.input.value.split('\n').length));
  }

  private saveState(): void {
    const state: SavedState = { active: this.active, drafts: this.drafts };
    this.vscode.setState(state);
  }

  private actionButton(action: HostAction, label: string, icon: string): HTMLButtonElement {
    const button = el(
      this.doc,
      'button',
      { class: 'action', attrs: { type: 'button' } },
      el(this.doc, 'span', { class: `codicon codicon-${icon}`, attrs: { 'aria-hidden': 'true' } }),
      el(this.doc, 'span', { text: ` ${label}` }),
    );
    button.addEventListener('click', () => this.post({ type: 'action', action }));
    return button;
  }

  private post(message: WebviewToHost): void {
    this.vscode.postMessage(message);
  }
}

const PRIVATE_STATE_WORDS: Record<PrivateState, string> = {
  connecting: 'connecting…',
  direct: 'direct, encrypted',
  closed: 'closed',
};

function timeLabel(at: number): string {
  const d = new Date(at);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function dayLabel(at: number): string {
  const now = new Date();
  const today = dayKey(now.getTime());
  const yesterday = dayKey(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1).getTime());
  const key = dayKey(at);
  if (key === today) return 'Today';
  if (key === yesterday) return 'Yesterday';
  return new Date(at).toLocaleDateString(undefined, { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

const root = document.getElementById('app');
if (root) new ChatApp(root, acquireVsCodeApi());
