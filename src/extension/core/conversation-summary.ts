import { channelOf, partnerOf, privatePartnerOf, type ConversationSummary, type PrivateState } from '../../view-protocol';
import type { Conversation } from './conversation';
import type { Person } from './roster';

/** How the views list a conversation: its title, kind, counts and its partner's presence. */
export function summarize(
  c: Conversation,
  personOf: (username: string) => Person | undefined,
  privateState: (username: string) => PrivateState,
): ConversationSummary {
  if (c.channel) {
    const { topic, private: privateChannel } = c.channel;
    const base = { id: c.id, title: `#${channelOf(c.id)!}`, kind: 'channel' as const, unread: c.unread, online: false, blocked: false };
    return { ...base, mentions: c.mentions, topic, privateChannel };
  }
  const direct = partnerOf(c.id);
  const secret = privatePartnerOf(c.id);
  const partner = direct ?? secret;
  const person = partner ? personOf(partner) : undefined;
  return {
    id: c.id,
    title: partner ?? 'Everyone',
    kind: secret !== undefined ? 'private' : direct !== undefined ? 'direct' : 'everyone',
    unread: c.unread,
    online: person?.online ?? false,
    blocked: person?.blocked ?? false,
    ...(secret !== undefined && { privateState: privateState(secret) }),
  };
}
