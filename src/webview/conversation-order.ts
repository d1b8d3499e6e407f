import { channelOf, type ConversationSummary } from '../view-protocol';

/** The switcher's groups, in the order they are shown. */
export type SectionName = 'Unread' | 'Channels' | 'People' | 'Private chats';

export interface Section {
  name: SectionName;
  conversations: ConversationSummary[];
}

const SECTION_OF: Record<ConversationSummary['kind'], Exclude<SectionName, 'Unread'>> = {
  // Broadcasts are a conversation of their own beside the channels.
  everyone: 'Channels',
  channel: 'Channels',
  direct: 'People',
  private: 'Private chats',
};

const ORDER: SectionName[] = ['Unread', 'Channels', 'People', 'Private chats'];

/** What a conversation is called where people see and type it: a channel with its `#`. */
export function displayName(c: ConversationSummary): string {
  const channel = channelOf(c.id);
  return channel === undefined ? c.title : `#${channel}`;
}

/** Whether something is waiting in a conversation: unread messages or mentions. */
export function hasNews(c: ConversationSummary): boolean {
  return c.unread > 0 || (c.mentions ?? 0) > 0;
}

/**
 * The conversations in the switcher's groups: those with unread messages first (the most mentions first), then
 * channels, people and private chats. Within a group the host's order is kept (it knows which is most recent).
 * Empty groups are left out.
 */
export function arrangeConversations(conversations: readonly ConversationSummary[]): Section[] {
  const groups = new Map<SectionName, ConversationSummary[]>(ORDER.map((name) => [name, []]));
  for (const c of conversations) groups.get(hasNews(c) ? 'Unread' : SECTION_OF[c.kind])!.push(c);
  // Array.prototype.sort is stable: equal mention counts keep the host's order.
  groups.get('Unread')!.sort((a, b) => (b.mentions ?? 0) - (a.mentions ?? 0));
  return ORDER.flatMap((name) => {
    const list = groups.get(name)!;
    return list.length ? [{ name, conversations: list }] : [];
  });
}

/** A filter as typed, made comparable with `searchText`: lower case, without surrounding space. */
export function normalizeQuery(text: string): string {
  return text.trim().toLowerCase();
}

/**
 * What a filter is looked for in: the name as shown, in lower case. Channels are shown with their `#`, so for
 * them the `#` is optional, and a filter that starts with one finds only channels.
 */
export function searchText(c: ConversationSummary): string {
  return displayName(c).toLowerCase();
}
