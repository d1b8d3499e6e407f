import type { ParleyClient } from '../../client/parley-client';
import { channelOf, partnerOf, privatePartnerOf } from '../../view-protocol';
import type { ChatState } from './chat-state';

/** A channel renamed, left or deleted while its page was on the way: the page would bring back its old name. */
const GONE = { added: 0, hasOlder: false };

/**
 * The session's history paging: the newest page at sign-in (and on coming back, what was missed), and older
 * pages of a conversation as it is scrolled back, one request at a time per conversation. A channel's pages are
 * its own (by seq, not in the history of all messages): its newest page when it is first opened.
 */
export class HistoryPager {
  private readonly loading = new Map<string, Promise<{ added: number; hasOlder: boolean }>>();

  constructor(
    private readonly state: ChatState,
    private readonly requireClient: () => ParleyClient,
    /** Messages per request. */
    private readonly page: number,
  ) {}

  /** The newest page of everything; messages newer than what is known count as unread (`live`). */
  async loadLatest(asLive: boolean): Promise<void> {
    const client = this.requireClient();
    const newest = Math.max(
      0,
      ...this.state
        .conversations()
        .filter((c) => c.kind === 'direct' || c.kind === 'everyone')
        .map((c) => this.state.messages(c.id).at(-1)?.id ?? 0),
    );
    const { messages, more } = await client.history({ limit: this.page });
    const known = messages.filter((m) => m.id <= newest);
    const fresh = messages.filter((m) => m.id > newest);
    if (asLive && newest > 0 && more && known.length === 0) {
      // Away for longer than a page: what was loaded before has a gap after it; start again from the newest.
      const me = this.state.me;
      this.state.reset(me);
      this.state.addMessages(messages, false);
      this.state.recordPage(undefined, messages, undefined, more);
      return;
    }
    this.state.addMessages(known, false);
    this.state.addMessages(fresh, asLive && newest > 0);
    if (this.state.globalFrom === undefined || !asLive) this.state.recordPage(undefined, messages, undefined, more);
  }

  /** Older messages of a conversation from the server, one page (Everyone: until a page holds a broadcast). */
  loadOlder(conversation: string): Promise<{ added: number; hasOlder: boolean }> {
    return this.once(conversation, () => this.fetchOlder(conversation));
  }

  /**
   * A channel's newest page (when first opened, and to catch up after a dropped connection): what it holds past
   * what is known is not counted unread here (the server's counts say that).
   */
  loadChannel(conversation: string): Promise<{ added: number; hasOlder: boolean }> {
    return this.once(conversation, () => this.fetchChannelLatest(conversation));
  }

  /**
   * After a dropped connection: the channels opened before get their newest page again; in the others, what arrived
   * live may have a gap after it, so it goes (their newest page comes when they are opened).
   */
  catchUpChannels(): Promise<unknown> {
    const channels = this.state.channelsWithMessages();
    for (const c of channels) if (this.state.loadedFrom(c) === undefined) this.state.clearMessages(c);
    return Promise.allSettled(channels.filter((c) => this.state.loadedFrom(c) !== undefined).map((c) => this.loadChannel(c)));
  }

  private once(
    conversation: string,
    fetch: () => Promise<{ added: number; hasOlder: boolean }>,
  ): Promise<{ added: number; hasOlder: boolean }> {
    let pending = this.loading.get(conversation);
    if (!pending) {
      pending = fetch().finally(() => this.loading.delete(conversation));
      this.loading.set(conversation, pending);
    }
    return pending;
  }

  private async fetchChannelLatest(conversation: string): Promise<{ added: number; hasOlder: boolean }> {
    const channel = channelOf(conversation)!;
    const { messages, more } = await this.requireClient().history({ channel, limit: this.page });
    if (!this.state.has(conversation)) return GONE;
    const newest = this.state.newestPosition(conversation);
    // Seqs have no gaps: a page that starts past the newest known message leaves one, so start again from it.
    const gap = newest > 0 && (messages[0]?.seq ?? 0) > newest + 1;
    if (gap) this.state.clearMessages(conversation);
    const fresh = this.state.addMessages(messages, false).length;
    // An empty page covers everything there is (1 onwards).
    if (gap || this.state.loadedFrom(conversation) === undefined) this.state.recordPage(conversation, messages, 1, more);
    return { added: fresh, hasOlder: this.state.hasOlderOnServer(conversation) };
  }

  private async fetchOlder(conversation: string): Promise<{ added: number; hasOlder: boolean }> {
    const client = this.requireClient();
    if (privatePartnerOf(conversation) !== undefined) return { added: 0, hasOlder: false };
    const partner = partnerOf(conversation);
    const channel = channelOf(conversation);
    let added = 0;
    if (channel !== undefined) {
      const oldest = this.state.messages(conversation)[0];
      const before = oldest?.seq;
      const { messages, more } = await client.history({ channel, limit: this.page, ...(before !== undefined && { before }) });
      if (!this.state.has(conversation)) return GONE;
      added = this.state.addMessages(messages, false).length;
      this.state.recordPage(conversation, messages, oldest?.id, more);
    } else if (partner !== undefined) {
      const before = this.state.loadedFrom(conversation);
      const { messages, more } = await client.history({ with: partner, limit: this.page, ...(before !== undefined && { before }) });
      added = this.state.addMessages(messages, false).length;
      this.state.recordPage(conversation, messages, before, more);
    } else {
      for (let pages = 0; pages < 5 && this.state.globalHasOlder; pages++) {
        const before = this.state.globalFrom;
        const { messages, more } = await client.history({ limit: this.page, ...(before !== undefined && { before }) });
        const fresh = this.state.addMessages(messages, false);
        this.state.recordPage(undefined, messages, before, more);
        added += fresh.filter((m) => m.kind === 'broadcast').length;
        if (added > 0) break;
      }
    }
    return { added, hasOlder: this.state.hasOlderOnServer(conversation) };
  }
}
