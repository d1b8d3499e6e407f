import {
  EVERYONE,
  compareKeys,
  parseWebviewMessage,
  partnerOf,
  type HostAction,
  type HostToWebview,
  type ItemKey,
  type TimelineItem,
  type WebviewToHost,
} from '../../view-protocol';
import type { ChatSession } from './chat-session';
import { errorMessage } from '../../protocol/errors';

/**
 * Binds one chat webview (the sidebar view or an editor tab) to the session, without VS Code:
 * the glue hands it the webview's postMessage, what the webview sends, and its visibility.
 *
 * A hidden webview receives nothing (its page is gone until it is shown again), so nothing is sent
 * until it is visible and has said "ready". State updates made meanwhile are not queued one by one:
 * the snapshot sent on "ready" holds them. Requests for the user's attention (focus the composer,
 * open a conversation) are queued and delivered after the snapshot, in order.
 */

export interface ViewActions {
  openLink(href: string): void;
  action(action: HostAction): void;
  /** "logout" typed in the composer. */
  signOut(): void;
  /** A malformed message from the webview, or another problem worth a line in the log. */
  log(text: string): void;
  /** Which conversation this view shows changed, or whether it is on screen. */
  viewingChanged(): void;
  /** The user is at this view: it was shown, or they typed or clicked in it (see core/attention.ts). */
  userActive?(): void;
}

export const TIMELINE_PAGE = 200;

type StateMessage = Exclude<HostToWebview, { type: 'focusComposer' } | { type: 'sendResult' }>;

export class ChatViewController {
  private active = EVERYONE;
  /** The user's read position in the active conversation when it was opened: the "new since you last read" line's place. */
  private readAtOpen: number | undefined;
  private visible = false;
  private ready = false;
  private readonly queued: HostToWebview[] = [];
  private pendingConversations = false;
  private pendingUsernames = false;
  private disposed = false;
  /** A conversation to show once the page is ready (asked for while it was hidden). */
  private requested: string | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  /** What was last delivered: for tests and the test API. */
  readonly delivered: HostToWebview[] = [];

  constructor(
    private readonly session: ChatSession,
    private readonly send: (message: HostToWebview) => unknown,
    private readonly actions: ViewActions,
    private readonly page = TIMELINE_PAGE,
  ) {
    const state = session.state;
    const on = <E extends 'items' | 'conversations' | 'moved' | 'people' | 'connection'>(
      event: E,
      listener: (...args: never[]) => void,
    ): void => {
      state.on(event, listener as never);
      this.unsubscribe.push(() => state.off(event, listener as never));
    };
    on('items', (conversation: string, items: TimelineItem[], live: boolean) => this.onItems(conversation, items, live));
    on('conversations', () => {
      this.keepDirect();
      this.schedule('conversations');
      this.onReadKnown();
    });
    on('moved', (from: string, to: string | undefined) => this.onMoved(from, to));
    on('people', () => this.schedule('usernames'));
    on('connection', () => {
      // Signed out, the read positions are gone: the next sign-in tells them again.
      if (state.readPosition(this.active) === undefined) this.readAtOpen = undefined;
      this.post({ type: 'connection', ...(state.me !== undefined && { me: state.me }), connection: state.connection });
      this.schedule('conversations');
    });
  }

  /** The conversation on screen, if this view is visible and running. */
  get viewing(): string | undefined {
    return this.visible && this.ready ? this.active : undefined;
  }

  get activeConversation(): string {
    return this.active;
  }

  get isReady(): boolean {
    return this.ready;
  }

  get queuedCount(): number {
    return this.queued.length;
  }

  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    // Without retainContextWhenHidden the page is discarded when hidden and loads again when shown.
    if (!visible) this.ready = false;
    this.actions.viewingChanged();
    if (visible) this.actions.userActive?.();
  }

  /** The webview's page was replaced (new HTML): wait for its "ready". */
  reload(): void {
    this.ready = false;
    this.actions.viewingChanged();
  }

  /** Handles what the webview posted; malformed messages are refused (and logged). */
  async receive(data: unknown): Promise<boolean> {
    const parsed = parseWebviewMessage(data);
    if (!parsed.ok) {
      this.actions.log(`Ignored a malformed message from the chat view: ${parsed.error}`);
      return false;
    }
    await this.handle(parsed.message);
    return true;
  }

  private async handle(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.visible = true;
        // A conversation the host asked for while the page was away wins over the one the page remembers.
        if (this.requested ?? message.active) this.open((this.requested ?? message.active)!);
        this.requested = undefined;
        // Marks the conversation on screen read before the snapshot tells the counts.
        this.actions.viewingChanged();
        this.deliver(this.snapshot());
        for (const queued of this.queued.splice(0)) this.deliver(queued);
        this.load();
        return;
      case 'select':
        this.show(message.conversation);
        return;
      case 'send': {
        const result = await this.session.runInput(message.conversation, message.text);
        if (result.kind === 'logout') {
          this.post({ type: 'sendResult', requestId: message.requestId, ok: true });
          this.actions.signOut();
        } else if (result.kind === 'error') {
          this.post({ type: 'sendResult', requestId: message.requestId, ok: false, error: result.error });
        } else {
          const target = result.kind === 'sent' ? result.conversation : result.kind === 'command' ? result.open : undefined;
          const open = target !== undefined && target !== message.conversation ? target : undefined;
          if (open) this.show(open);
          this.post({ type: 'sendResult', requestId: message.requestId, ok: true, ...(open && { open }) });
        }
        return;
      }
      case 'loadOlder':
        await this.loadOlder(message.conversation, message.before);
        return;
      case 'openLink':
        this.actions.openLink(message.href);
        return;
      case 'action':
        this.actions.action(message.action);
        return;
      case 'active':
        this.actions.userActive?.();
        return;
    }
  }

  /** Switches this view to a conversation and sends its timeline. */
  show(conversation: string): void {
    this.open(conversation);
    if (!(this.visible && this.ready)) this.requested = this.active;
    this.post(this.timeline());
    this.actions.viewingChanged();
    this.load();
  }

  /** Asks the webview to focus its composer, optionally in a conversation and with text (queued while hidden). */
  focusComposer(conversation?: string, text?: string): void {
    if (conversation) this.show(conversation);
    this.post({ type: 'focusComposer', ...(conversation && { conversation }), ...(text !== undefined && { text }) });
  }

  dispose(): void {
    this.disposed = true;
    for (const off of this.unsubscribe.splice(0)) off();
    this.queued.length = 0;
  }

  private open(conversation: string): void {
    const partner = partnerOf(conversation);
    if (partner !== undefined && partner !== this.session.state.me) this.session.state.openDirect(partner);
    // A private conversation exists only once a chat was started (its messages live in memory only).
    const active = this.session.state.has(conversation) ? conversation : EVERYONE;
    if (active !== this.active) this.readAtOpen = this.session.state.readPosition(active);
    this.active = active;
  }

  /**
   * A sign-in (or a catch-up after long away) starts the conversations afresh, and a direct conversation without
   * messages is not among them: the one on screen is opened again, or the view would show one the list lacks.
   */
  private keepDirect(): void {
    const state = this.session.state;
    const partner = partnerOf(this.active);
    if (partner !== undefined && state.me !== undefined && partner !== state.me && !state.has(this.active)) state.openDirect(partner);
  }

  /** What the active conversation shows that is not loaded yet (a channel's newest page): its timeline again once it is. */
  private load(): void {
    const conversation = this.active;
    this.session.openConversation(conversation).then(
      (loaded) => loaded && conversation === this.active && this.post(this.timeline()),
      (err: unknown) => this.actions.log(`Could not load ${conversation}: ${errorMessage(err)}`),
    );
  }

  /** The read position of the conversation on screen became known (at sign-in): the line goes where it says, and a channel loads. */
  private onReadKnown(): void {
    if (this.readAtOpen !== undefined) return;
    this.readAtOpen = this.session.state.readPosition(this.active);
    if (this.readAtOpen === undefined) return;
    if (this.firstUnread(this.session.state.items(this.active).items)) this.post(this.timeline());
    this.load();
  }

  /** A channel left, deleted or renamed, or its timeline replaced: the view follows it, or goes back to Everyone. */
  private onMoved(from: string, to: string | undefined): void {
    if (from !== this.active) return;
    // Renamed or replaced, it is the same conversation, read as far as before.
    if (to === undefined) this.readAtOpen = this.session.state.readPosition(EVERYONE);
    this.active = to ?? EVERYONE;
    this.post(this.timeline());
    this.actions.viewingChanged();
  }

  /** The key of the first unread message among `items`, if it is there. */
  private firstUnread(items: readonly TimelineItem[]): ItemKey | undefined {
    const key = this.session.state.firstUnread(this.active, this.readAtOpen);
    return key && items.some((i) => compareKeys(i.key, key) === 0) ? key : undefined;
  }

  private async loadOlder(conversation: string, before: ItemKey | undefined): Promise<void> {
    const state = this.session.state;
    const page = () => state.items(conversation, { ...(before && { before }), limit: this.page });
    let { items, olderInMemory } = page();
    // Only what history pages covered is known to have no gaps: messages older than that (replayed or
    // live ones) may have others between them on the server, so the page is filled from there first.
    for (let fetches = 0; fetches < 10 && !this.covered(conversation, items) && this.session.signedIn; fetches++) {
      if (!state.hasOlderOnServer(conversation)) break;
      try {
        await this.session.loadOlder(conversation);
      } catch (err) {
        this.actions.log(`Could not load older messages: ${errorMessage(err)}`);
        break;
      }
      ({ items, olderInMemory } = page());
    }
    const hasOlder = olderInMemory || (state.hasOlderOnServer(conversation) && this.session.signedIn);
    this.post({ type: 'items', conversation, items, hasOlder, live: false });
  }

  /** A full page whose oldest item lies within what the server's history pages have covered. */
  private covered(conversation: string, items: readonly TimelineItem[]): boolean {
    const from = this.session.state.loadedFrom(conversation);
    const oldest = items[0];
    return items.length >= this.page && from !== undefined && oldest !== undefined && oldest.key[0] >= from;
  }

  private snapshot(): HostToWebview {
    const state = this.session.state;
    const { items, olderInMemory } = state.items(this.active, { limit: this.page });
    const firstUnread = this.firstUnread(items);
    return {
      type: 'snapshot',
      ...(state.me !== undefined && { me: state.me }),
      connection: state.connection,
      conversations: state.conversations(),
      active: this.active,
      items,
      hasOlder: olderInMemory || state.hasOlderOnServer(this.active),
      usernames: state.usernames(),
      ...(firstUnread && { firstUnread }),
    };
  }

  private timeline(): StateMessage {
    const state = this.session.state;
    const { items, olderInMemory } = state.items(this.active, { limit: this.page });
    const hasOlder = olderInMemory || state.hasOlderOnServer(this.active);
    const firstUnread = this.firstUnread(items);
    return { type: 'timeline', conversation: this.active, items, hasOlder, ...(firstUnread && { firstUnread }) };
  }

  private onItems(conversation: string, items: TimelineItem[], live: boolean): void {
    if (conversation !== this.active) return;
    this.post({ type: 'items', conversation, items, live });
  }

  /** Coalesces bursts of state changes into one message, sent after the current task. */
  private schedule(what: 'conversations' | 'usernames'): void {
    if (what === 'conversations') {
      if (this.pendingConversations) return;
      this.pendingConversations = true;
    } else {
      if (this.pendingUsernames) return;
      this.pendingUsernames = true;
    }
    queueMicrotask(() => {
      if (what === 'conversations') {
        this.pendingConversations = false;
        this.post({ type: 'conversations', conversations: this.session.state.conversations() });
      } else {
        this.pendingUsernames = false;
        this.post({ type: 'usernames', usernames: this.session.state.usernames() });
      }
    });
  }

  /** State goes out only to a running page (the next snapshot covers it otherwise); requests wait in the queue. */
  private post(message: HostToWebview): void {
    if (this.disposed) return;
    if (this.visible && this.ready) return this.deliver(message);
    if (message.type === 'focusComposer') {
      this.queued.push(message);
      if (this.queued.length > 20) this.queued.shift();
    }
  }

  private deliver(message: HostToWebview): void {
    this.delivered.push(message);
    if (this.delivered.length > 50) this.delivered.splice(0, this.delivered.length - 50);
    try {
      const result = this.send(message);
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
        (result as PromiseLike<unknown>).then(undefined, (err: unknown) =>
          this.actions.log(`Could not post to the chat view: ${String(err)}`),
        );
      }
    } catch (err) {
      this.actions.log(`Could not post to the chat view: ${String(err)}`);
    }
  }
}
