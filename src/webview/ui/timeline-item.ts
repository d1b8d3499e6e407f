import { EVERYONE, type TimelineItem } from '../../view-protocol';
import { dayKey, el, timeLabel } from './dom';
import type { MarkdownRenderer } from './markdown';

/** One item of a timeline as an element, and what decides how it sits among its neighbours. */

const GROUP_GAP_MS = 5 * 60_000;

type MessageItem = Extract<TimelineItem, { kind: 'message' }>;

export function itemTime(item: TimelineItem): number {
  return item.kind === 'message' ? item.message.sentAt : item.at;
}

export function keyString(item: TimelineItem): string {
  return `${item.key[0]}:${item.key[1]}`;
}

/** A message from the same sender, of the same kind, soon after the one before: shown without its header. */
export function continues(previous: TimelineItem | undefined, m: MessageItem['message']): boolean {
  return (
    previous?.kind === 'message' &&
    previous.message.from === m.from &&
    previous.message.kind === m.kind &&
    m.sentAt - previous.message.sentAt < GROUP_GAP_MS &&
    dayKey(previous.message.sentAt) === dayKey(m.sentAt)
  );
}

/** A message, its header marked for the user's own, a broadcast outside Everyone and a private one. */
export function renderMessage(
  doc: Document,
  markdown: MarkdownRenderer,
  item: MessageItem,
  me: string | undefined,
  conversation: string,
): HTMLElement {
  const m = item.message;
  const own = m.from === me;
  const date = new Date(m.sentAt);
  const header = el(
    doc,
    'header',
    { class: 'meta' },
    el(doc, 'span', { class: 'from', text: own ? `${m.from} (you)` : m.from }),
    el(doc, 'time', { text: timeLabel(m.sentAt), attrs: { datetime: date.toISOString(), title: date.toLocaleString() } }),
  );
  if (m.kind === 'broadcast' && conversation !== EVERYONE) header.append(el(doc, 'span', { class: 'tag', text: 'broadcast' }));
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
  body.append(markdown.render(m.body));
  return el(
    doc,
    'article',
    { class: `message${own ? ' own' : ''}${m.kind === 'private' ? ' private' : ''}`, attrs: { 'data-key': keyString(item) } },
    header,
    body,
  );
}

export function renderNotice(doc: Document, item: Extract<TimelineItem, { kind: 'notice' }>): HTMLElement {
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
