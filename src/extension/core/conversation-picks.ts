import { directId, type ConversationSummary } from '../../view-protocol';
import type { ChatState } from './chat-state';

/**
 * "Go to Conversation…": every conversation of the user's (channels, Everyone, direct and private chats) and every
 * person known, in one list, those with unread messages first, then the most recently active. The quick pick
 * filters as the user types.
 */

export interface ConversationPick {
  conversation: string;
  kind: ConversationSummary['kind'];
  label: string;
  description: string;
  unread: number;
}

export function conversationPicks(state: ChatState): ConversationPick[] {
  const picks = state.conversations().map((c) => ({ pick: pickOf(c), last: state.messages(c.id).at(-1)?.sentAt ?? 0 }));
  const listed = new Set(picks.map((p) => p.pick.conversation));
  for (const person of state.people()) {
    const conversation = directId(person.username);
    if (listed.has(conversation)) continue;
    const description = person.blocked ? 'blocked' : person.online ? 'online' : 'offline';
    picks.push({ pick: { conversation, kind: 'direct', label: person.username, description, unread: 0 }, last: 0 });
  }
  // A stable sort: equals keep the conversation list's order.
  return picks.sort((a, b) => Number(b.pick.unread > 0) - Number(a.pick.unread > 0) || b.last - a.last).map((p) => p.pick);
}

function pickOf(c: ConversationSummary): ConversationPick {
  const counts = [c.unread > 0 ? `${c.unread} unread` : '', c.mentions ? `${c.mentions} mentioning you` : ''];
  const about =
    c.kind === 'channel'
      ? [c.privateChannel ? 'private channel' : '', c.topic ?? '']
      : c.kind === 'private'
        ? [`private chat, ${c.privateState === 'direct' ? 'direct and encrypted' : (c.privateState ?? 'closed')}`]
        : c.kind === 'everyone'
          ? ['broadcasts to everyone online']
          : [c.blocked ? 'blocked' : c.online ? 'online' : 'offline'];
  const label = c.kind === 'private' ? `${c.title} (private)` : c.title;
  return { conversation: c.id, kind: c.kind, label, description: [...counts, ...about].filter(Boolean).join(' · '), unread: c.unread };
}
