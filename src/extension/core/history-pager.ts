import type { ParleyClient } from '../../client/parley-client';
import { partnerOf, privatePartnerOf } from '../../view-protocol';
import type { ChatState } from './chat-state';

/**
 * The session's history paging: the newest page at sign-in (and on coming back, what was missed), and older
 * pages of a conversation as it is scrolled back, one request at a time per conversation.
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
        .filter((c) => c.kind !== 'private')
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
    let pending = this.loading.get(conversation);
    if (!pending) {
      pending = this.fetchOlder(conversation).finally(() => this.loading.delete(conversation));
      this.loading.set(conversation, pending);
    }
    return pending;
  }

  private async fetchOlder(conversation: string): Promise<{ added: number; hasOlder: boolean }> {
    const client = this.requireClient();
    if (privatePartnerOf(conversation) !== undefined) return { added: 0, hasOlder: false };
    const partner = partnerOf(conversation);
    let added = 0;
    if (partner !== undefined) {
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
