import { complete, type CompletionResult } from '../completion';
import {
  channelOf,
  partnerOf,
  privatePartnerOf,
  type ConnectionPhase,
  type ConversationSummary,
  type HostToWebview,
  type WebviewToHost,
} from '../../view-protocol';
import { el } from './dom';

/** What the composer needs of the page around it. */
export interface ComposerHost {
  /** The conversation on screen: what is typed goes there, and its draft is kept under its id. */
  active(): string;
  post(message: WebviewToHost): void;
  /** The drafts changed: save them with the page's state. */
  saveState(): void;
}

/**
 * Where the user writes: the text area with its send button, the completion list for commands and names, the
 * error of a send that failed (its text comes back to the box), and one draft per conversation.
 */
export class Composer {
  readonly element: HTMLElement;
  usernames: string[] = [];
  /** The channels the user is in (names without "#"), for completion. */
  private channels: string[] = [];
  private readonly completions: HTMLElement;
  private readonly input: HTMLTextAreaElement;
  private readonly sendButton: HTMLButtonElement;
  private readonly error: HTMLElement;
  private completion: (CompletionResult & { selected: number; chosen: boolean }) | undefined;
  private nextRequest = 1;
  private readonly pending = new Map<number, { conversation: string; text: string }>();

  constructor(
    private readonly doc: Document,
    /** By conversation id; the page saves them with its state. */
    private readonly drafts: Record<string, string>,
    private readonly host: ComposerHost,
  ) {
    this.completions = el(doc, 'ul', {
      class: 'completions',
      attrs: { role: 'listbox', id: 'parley-completions', 'aria-label': 'Suggestions' },
    });
    this.completions.hidden = true;
    this.input = el(doc, 'textarea', {
      class: 'input',
      attrs: {
        rows: '1',
        'aria-label': 'Message',
        'aria-autocomplete': 'list',
        'aria-controls': 'parley-completions',
        spellcheck: 'true',
      },
    });
    this.sendButton = el(
      doc,
      'button',
      { class: 'send', attrs: { type: 'button', title: 'Send (Enter)', 'aria-label': 'Send' } },
      el(doc, 'span', { class: 'codicon codicon-send', attrs: { 'aria-hidden': 'true' } }),
    );
    this.error = el(doc, 'div', { class: 'composer-error', attrs: { role: 'alert' } });
    this.element = el(
      doc,
      'div',
      { class: 'composer' },
      this.completions,
      el(doc, 'div', { class: 'composer-row' }, this.input, this.sendButton),
      this.error,
    );

    this.input.addEventListener('keydown', (e) => this.onKeyDown(e));
    this.input.addEventListener('input', () => this.onInput());
    this.input.addEventListener('blur', () => this.closeCompletion());
    this.sendButton.addEventListener('click', () => this.send());
    this.completions.addEventListener('mousedown', (e) => {
      // Keep the focus in the textarea; pick what was clicked.
      e.preventDefault();
      const index = Number((e.target as Element).closest('li')?.getAttribute('data-index'));
      if (!Number.isNaN(index)) this.accept(index);
    });
  }

  /** Enables the box when what is on screen can be written to, and says what a message there does. */
  update(phase: ConnectionPhase, conversations: ConversationSummary[]): void {
    this.channels = conversations.flatMap((c) => channelOf(c.id) ?? []);
    const active = this.host.active();
    const secret = privatePartnerOf(active);
    // Private chats need no server: while only they are left, their conversations can still be written in.
    const signedIn = phase === 'signed-in' || phase === 'reconnecting' || (phase === 'private-only' && secret !== undefined);
    this.input.disabled = !signedIn;
    this.sendButton.disabled = !signedIn;
    const channel = channelOf(active);
    const target = partnerOf(active) ?? (channel === undefined ? 'everyone online' : `#${channel}`);
    const state = conversations.find((c) => c.id === active)?.privateState ?? 'closed';
    this.input.placeholder = !signedIn
      ? phase === 'private-only'
        ? 'Signed out: only private chats are open'
        : 'Not connected'
      : secret
        ? state === 'direct'
          ? `Message ${secret} privately (direct, not stored on the server)`
          : `The private chat with ${secret} is ${state}; "/startprivate ${secret}" opens it`
        : `Message ${target} — / for commands`;
    this.input.title = 'Enter sends, Shift+Enter adds a line; "/help" lists the commands';
  }

  /** The host's answer to a send: a refused one shows why, and its text comes back if the box is empty. */
  sendResult(result: Extract<HostToWebview, { type: 'sendResult' }>): void {
    const sent = this.pending.get(result.requestId);
    this.pending.delete(result.requestId);
    if (result.ok || !sent) return;
    if (sent.conversation === this.host.active() && !this.input.value) {
      this.input.value = sent.text;
      this.onInput();
    }
    this.error.textContent = result.error ?? 'Not sent.';
  }

  focus(text: string | undefined): void {
    if (text !== undefined) {
      this.input.value = text;
      this.onInput();
    }
    this.input.focus();
  }

  saveDraft(): void {
    const active = this.host.active();
    if (this.input.value) this.drafts[active] = this.input.value;
    else delete this.drafts[active];
    this.host.saveState();
  }

  restoreDraft(): void {
    this.input.value = this.drafts[this.host.active()] ?? '';
    this.input.rows = Math.min(8, Math.max(1, this.input.value.split('\n').length));
  }

  private onKeyDown(event: KeyboardEvent): void {
    const completion = this.completion;
    if (completion) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault();
        const n = completion.items.length;
        completion.selected = (completion.selected + (event.key === 'ArrowDown' ? 1 : n - 1)) % n;
        completion.chosen = true;
        this.renderCompletion();
        return;
      }
      if (event.key === 'Tab' || (event.key === 'Enter' && completion.chosen && !event.shiftKey)) {
        event.preventDefault();
        this.accept(completion.selected);
        return;
      }
      if (event.key === 'Escape') {
        event.preventDefault();
        this.closeCompletion();
        return;
      }
    }
    // Enter sends; Shift+Enter is a new line; nothing happens while an input method is composing.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      this.send();
    }
  }

  private onInput(): void {
    const lines = this.input.value.split('\n').length;
    this.input.rows = Math.min(8, Math.max(1, lines));
    this.error.textContent = '';
    const result = complete(this.input.value, this.input.selectionStart ?? this.input.value.length, this.usernames, this.channels);
    this.completion = result ? { ...result, selected: 0, chosen: false } : undefined;
    this.renderCompletion();
    this.saveDraft();
  }

  private renderCompletion(): void {
    const completion = this.completion;
    this.completions.hidden = !completion;
    if (!completion) {
      this.completions.replaceChildren();
      this.input.removeAttribute('aria-activedescendant');
      return;
    }
    this.completions.replaceChildren(
      ...completion.items.map((item, index) => {
        const li = el(
          this.doc,
          'li',
          {
            class: index === completion.selected ? 'selected' : '',
            attrs: {
              role: 'option',
              id: `parley-completion-${index}`,
              'data-index': String(index),
              'aria-selected': String(index === completion.selected),
            },
          },
          el(this.doc, 'span', { class: 'label', text: item.label }),
        );
        if (item.detail) li.append(el(this.doc, 'span', { class: 'detail', text: item.detail }));
        return li;
      }),
    );
    this.input.setAttribute('aria-activedescendant', `parley-completion-${completion.selected}`);
  }

  private accept(index: number): void {
    const completion = this.completion;
    const item = completion?.items[index];
    if (!completion || !item) return;
    const value = this.input.value;
    this.input.value = value.slice(0, completion.from) + item.insert + value.slice(completion.to);
    const cursor = completion.from + item.insert.length;
    this.input.setSelectionRange(cursor, cursor);
    this.onInput();
  }

  private closeCompletion(): void {
    this.completion = undefined;
    this.renderCompletion();
  }

  private send(): void {
    const text = this.input.value;
    if (!text.trim()) return;
    if (this.input.disabled) return;
    const requestId = this.nextRequest++;
    const conversation = this.host.active();
    this.pending.set(requestId, { conversation, text });
    this.host.post({ type: 'send', requestId, conversation, text });
    this.input.value = '';
    this.onInput();
    this.closeCompletion();
  }
}
