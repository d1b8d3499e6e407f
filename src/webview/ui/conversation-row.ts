import type { ConversationSummary } from '../../view-protocol';
import { displayName } from '../conversation-order';
import { PRIVATE_STATE_WORDS } from './banner';
import { el } from './dom';

/** How a person is doing, in words: online, idle or offline. */
export function presence(c: ConversationSummary): 'online' | 'idle' | 'offline' {
  return !c.online ? 'offline' : c.idle ? 'idle' : 'online';
}

/** The codicon that says what kind of conversation this is (and, for a person, their presence). */
export function conversationIcon(c: ConversationSummary): string {
  switch (c.kind) {
    case 'everyone':
      return 'broadcast';
    case 'channel':
      return 'symbol-number';
    case 'private':
      return 'lock';
    case 'direct':
      return c.online ? 'circle-filled' : 'circle-outline';
  }
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A conversation's label for screen readers: its name, what it is (a person's presence, a private chat's state),
 * whether it is blocked, and what is waiting in it.
 */
export function conversationLabel(c: ConversationSummary): string {
  const label = [displayName(c)];
  if (c.kind === 'direct') label.push(presence(c));
  else if (c.kind === 'everyone') label.push('broadcasts');
  else if (c.kind === 'channel') label.push(c.privateChannel ? 'private channel' : 'channel');
  else label.push('private chat', PRIVATE_STATE_WORDS[c.privateState ?? 'closed']);
  if (c.blocked) label.push('blocked');
  if (c.unread > 0) label.push(`${c.unread} unread`);
  if (c.mentions) label.push(plural(c.mentions, 'mention', 'mentions'));
  return label.join(', ');
}

/** The visible marks of what is waiting: the unread count and, apart, the mentions. */
export function countMarks(doc: Document, unread: number, mentions: number): HTMLElement[] {
  const marks: HTMLElement[] = [];
  if (mentions > 0)
    marks.push(el(doc, 'span', { class: 'mentions', text: `@${mentions}`, attrs: { title: plural(mentions, 'mention', 'mentions') } }));
  if (unread > 0) marks.push(el(doc, 'span', { class: 'unread', text: String(unread) }));
  return marks;
}

/** One option of the switcher's list: icon, name, tags (direct, state, private, blocked), counts. */
export function conversationRow(doc: Document, c: ConversationSummary, current: boolean): HTMLElement {
  const state = c.privateState ?? 'closed';
  const classes = ['conversation', c.kind, presence(c)];
  if (current) classes.push('current');
  if (c.blocked) classes.push('blocked');
  if (c.kind === 'private') classes.push(state);
  const row = el(
    doc,
    'div',
    { class: classes.join(' '), attrs: { role: 'option', 'aria-selected': 'false', 'data-id': c.id, 'aria-label': conversationLabel(c) } },
    el(doc, 'span', { class: `codicon codicon-${conversationIcon(c)}`, attrs: { 'aria-hidden': 'true' } }),
    el(doc, 'span', { class: 'title', text: displayName(c) }),
  );
  if (current) row.setAttribute('aria-current', 'true');
  if (c.kind === 'private') {
    row.append(el(doc, 'span', { class: 'tag direct', text: 'direct' }));
    if (state !== 'direct') row.append(el(doc, 'span', { class: `tag state ${state}`, text: state }));
  }
  if (c.privateChannel) row.append(el(doc, 'span', { class: 'tag private-channel', text: 'private' }));
  if (c.blocked) row.append(el(doc, 'span', { class: 'tag', text: 'blocked' }));
  row.append(...countMarks(doc, c.unread, c.mentions ?? 0));
  return row;
}
