import { channelOf, privatePartnerOf, type ConversationSummary } from '../../view-protocol';
import { PRIVATE_STATE_WORDS } from './banner';
import { el } from './dom';

/**
 * Above the timeline: for a private chat, the lock, who, the channel state and that nothing is stored on the
 * server; for a channel, its name, whether it is private and its topic. Hidden for other conversations. A status
 * region: written only when what it says changes.
 */
export class ConversationHeader {
  readonly element: HTMLElement;
  private shows = '';

  constructor(private readonly doc: Document) {
    this.element = el(doc, 'div', { class: 'conversation-header', attrs: { role: 'status' } });
    this.element.hidden = true;
  }

  render(active: string, conversations: ConversationSummary[], signedOut: boolean): void {
    const summary = conversations.find((c) => c.id === active);
    const partner = privatePartnerOf(active);
    const channel = channelOf(active);
    const parts =
      signedOut || (partner === undefined && channel === undefined)
        ? undefined
        : partner !== undefined
          ? this.privateChat(partner, summary)
          : this.channel(channel!, summary);
    this.element.hidden = parts === undefined;
    const shows = parts ? `${parts.className}\n${parts.nodes.map((n) => n.textContent).join('\n')}` : '';
    if (this.shows === shows) return;
    this.shows = shows;
    this.element.className = parts?.className ?? 'conversation-header';
    this.element.replaceChildren(...(parts?.nodes ?? []));
  }

  private privateChat(partner: string, summary: ConversationSummary | undefined): { className: string; nodes: HTMLElement[] } {
    const doc = this.doc;
    const state = summary?.privateState ?? 'closed';
    return {
      className: `conversation-header private ${state}`,
      nodes: [
        el(doc, 'span', {
          class: `codicon codicon-${state === 'connecting' ? 'sync codicon-modifier-spin' : 'lock'}`,
          attrs: { 'aria-hidden': 'true' },
        }),
        el(doc, 'span', { class: 'title', text: ` Private chat with ${partner}` }),
        el(doc, 'span', { class: `tag state ${state}`, text: PRIVATE_STATE_WORDS[state] }),
        el(doc, 'span', { class: 'hint', text: 'not stored on the server' }),
      ],
    };
  }

  private channel(name: string, summary: ConversationSummary | undefined): { className: string; nodes: HTMLElement[] } {
    const doc = this.doc;
    const nodes = [el(doc, 'span', { class: 'title', text: `#${name}` })];
    if (summary?.privateChannel) nodes.push(el(doc, 'span', { class: 'tag private-channel', text: 'private channel' }));
    const topic = summary?.topic;
    if (topic) nodes.push(el(doc, 'span', { class: 'topic', text: topic, attrs: { title: topic } }));
    return { className: 'conversation-header channel', nodes };
  }
}
