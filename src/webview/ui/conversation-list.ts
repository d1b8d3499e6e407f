import type { ConversationSummary } from '../../view-protocol';
import { PRIVATE_STATE_WORDS } from './banner';
import { el } from './dom';

/** The conversations as tabs: one per conversation, with its state, unread count and arrow-key navigation. */
export class ConversationList {
  readonly element: HTMLElement;
  private conversations: ConversationSummary[] = [];

  constructor(
    private readonly doc: Document,
    private readonly select: (conversation: string) => void,
  ) {
    this.element = el(doc, 'nav', { class: 'conversations', attrs: { role: 'tablist', 'aria-label': 'Conversations' } });
  }

  render(conversations: ConversationSummary[], active: string): void {
    const doc = this.doc;
    this.conversations = conversations;
    // Rebuilding the tabs must not take the keyboard focus away from the one that had it.
    const focused = (doc.activeElement as HTMLElement | null)?.closest?.('.conversation') as HTMLElement | null;
    const focusedId = focused && this.element.contains(focused) ? focused.dataset.id : undefined;
    this.element.replaceChildren(...conversations.map((c) => this.tab(c, c.id === active)));
    if (focusedId !== undefined) this.focus(focusedId);
  }

  private tab(c: ConversationSummary, selected: boolean): HTMLElement {
    const doc = this.doc;
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
    const label = [c.title, c.kind === 'direct' ? (c.online ? 'online' : 'offline') : c.kind === 'private' ? 'private chat' : 'broadcasts'];
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
    button.addEventListener('keydown', (e) => this.onKey(e, c.id));
    return button;
  }

  private onKey(event: KeyboardEvent, id: string): void {
    const count = this.conversations.length;
    const index = this.conversations.findIndex((c) => c.id === id);
    let next = -1;
    if (event.key === 'ArrowRight' || event.key === 'ArrowDown') next = (index + 1) % count;
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') next = (index - 1 + count) % count;
    else if (event.key === 'Home') next = 0;
    else if (event.key === 'End') next = count - 1;
    if (next < 0) return;
    event.preventDefault();
    const target = this.conversations[next]!;
    this.select(target.id);
    this.focus(target.id);
  }

  private focus(id: string): void {
    for (const button of this.element.querySelectorAll<HTMLElement>('[data-id]')) if (button.dataset.id === id) button.focus();
  }
}
