import * as z from 'zod/mini';
import {
  EVERYONE,
  parseHostMessage,
  type ConnectionView,
  type ConversationSummary,
  type HostToWebview,
  type ItemKey,
  type TimelineItem,
  type WebviewToHost,
} from '../../view-protocol';
import { ConnectionBanner } from './banner';
import { Composer } from './composer';
import { ConversationHeader } from './conversation-header';
import { createMarkdown } from './markdown';
import { ConversationSwitcher } from './switcher';
import { Timeline } from './timeline';

/**
 * The chat webview: renders what the extension host sends and posts back what the user does. It holds no chat
 * state of its own beyond the conversation on screen and the drafts (kept with setState, so that they survive
 * the page being discarded while hidden). Each part of the page is a component of its own; this class owns
 * what they share (who is signed in, the conversations, which is on screen) and routes the host's messages.
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

const savedSchema = z.object({
  active: z.optional(z.string().check(z.maxLength(64))),
  drafts: z.optional(z.record(z.string().check(z.maxLength(64)), z.string().check(z.maxLength(10_000)))),
});

/** The user typing or clicking in the view is told to the host at most this often. */
const ACTIVE_EVERY_MS = 10_000;

export class ChatApp {
  private connection: ConnectionView = { phase: 'signed-out' };
  private conversations: ConversationSummary[] = [];
  private active = EVERYONE;
  private drafts: Record<string, string> = {};
  private readonly switcher: ConversationSwitcher;
  private readonly banner: ConnectionBanner;
  private readonly header: ConversationHeader;
  private readonly timeline: Timeline;
  private readonly composer: Composer;

  constructor(
    root: HTMLElement,
    private readonly vscode: VsCodeApi,
  ) {
    const doc = root.ownerDocument;
    const saved = savedSchema.safeParse(vscode.getState() ?? {});
    if (saved.success) {
      if (saved.data.active) this.active = saved.data.active;
      this.drafts = saved.data.drafts ?? {};
    }
    const post = (message: WebviewToHost): void => this.post(message);
    this.switcher = new ConversationSwitcher(doc, (conversation) => {
      if (conversation !== this.active) post({ type: 'select', conversation });
      this.composer.focus(undefined);
    });
    this.banner = new ConnectionBanner(doc, (action) => post({ type: 'action', action }));
    this.header = new ConversationHeader(doc);
    this.timeline = new Timeline(doc, createMarkdown(doc), post);
    this.composer = new Composer(doc, this.drafts, { active: () => this.active, post, saveState: () => this.saveState() });
    root.append(
      this.switcher.element,
      this.banner.banner,
      this.header.element,
      this.banner.welcome,
      this.timeline.element,
      this.timeline.jump,
      this.composer.element,
      this.timeline.live,
    );
    root.classList.add('chat');

    doc.defaultView?.addEventListener('message', (e: MessageEvent) => this.receive(e.data));
    // The user at the chat is at the editor: after an idle sign-out the host signs in again (core/attention.ts).
    let activeAt = Number.NEGATIVE_INFINITY;
    const active = (): void => {
      if (Date.now() - activeAt < ACTIVE_EVERY_MS) return;
      activeAt = Date.now();
      post({ type: 'active' });
    };
    root.addEventListener('keydown', active, { capture: true });
    root.addEventListener('pointerdown', active, { capture: true });
    this.composer.update(this.connection.phase, this.conversations);
    this.composer.restoreDraft();
    const remembered = saved.success ? saved.data.active : undefined;
    this.post(remembered ? { type: 'ready', active: this.active } : { type: 'ready' });
  }

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
        this.timeline.me = message.me;
        this.connection = message.connection;
        this.conversations = message.conversations;
        this.composer.usernames = message.usernames;
        this.switchTo(message.active, message.items, message.hasOlder, message.firstUnread);
        this.renderConnection();
        this.renderConversations();
        return;
      case 'connection':
        this.timeline.me = message.me;
        this.connection = message.connection;
        this.renderConnection();
        return;
      case 'conversations':
        this.conversations = message.conversations;
        this.renderConversations();
        return;
      case 'usernames':
        this.composer.usernames = message.usernames;
        return;
      case 'timeline':
        this.switchTo(message.conversation, message.items, message.hasOlder, message.firstUnread);
        this.renderConversations();
        return;
      case 'items':
        if (message.conversation === this.active) this.timeline.merge(message.items, message.live, message.hasOlder);
        return;
      case 'sendResult':
        this.composer.sendResult(message);
        return;
      case 'focusComposer':
        this.composer.focus(message.text);
        return;
    }
  }

  private switchTo(conversation: string, items: TimelineItem[], hasOlder: boolean, firstUnread: ItemKey | undefined): void {
    if (conversation !== this.active) {
      this.composer.saveDraft();
      this.active = conversation;
      this.composer.restoreDraft();
    }
    this.saveState();
    this.renderHeader();
    this.timeline.show(conversation, items, hasOlder, firstUnread);
  }

  private renderConnection(): void {
    this.banner.render(this.connection);
    const signedOut = this.connection.phase === 'signed-out';
    this.timeline.element.hidden = signedOut;
    this.switcher.element.hidden = signedOut;
    if (signedOut) this.switcher.close(false);
    this.renderHeader();
  }

  private renderConversations(): void {
    this.switcher.render(this.conversations, this.active);
    this.renderHeader();
  }

  /** The header and the composer both say what the conversation on screen is and whether it can be written in. */
  private renderHeader(): void {
    this.header.render(this.active, this.conversations, this.connection.phase === 'signed-out');
    this.composer.update(this.connection.phase, this.conversations);
  }

  private saveState(): void {
    const state: SavedState = { active: this.active, drafts: this.drafts };
    this.vscode.setState(state);
  }

  private post(message: WebviewToHost): void {
    this.vscode.postMessage(message);
  }
}

const root = document.getElementById('app');
if (root) new ChatApp(root, acquireVsCodeApi());
