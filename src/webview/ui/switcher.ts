import { EVERYONE, type ConversationSummary } from '../../view-protocol';
import { arrangeConversations, displayName, normalizeQuery, searchText } from '../conversation-order';
import { conversationIcon, conversationRow, countMarks, presence } from './conversation-row';
import { el } from './dom';

/** A row of the list, with what the filter compares. */
interface Row {
  id: string;
  node: HTMLElement;
  text: string;
  group: HTMLElement;
}

const PREFIX = 'switcher';

/**
 * The conversation switcher: a button that names the conversation on screen and shows what is waiting elsewhere,
 * and the list it opens (also with Ctrl/Cmd+K), a combobox: a filter box above a listbox of every conversation,
 * grouped (see arrangeConversations). The focus stays in the filter box; the arrows move the highlighted option
 * (aria-activedescendant), Enter opens it, Escape closes. The list is built only while it is open, and filtering
 * hides rows rather than building them again.
 */
export class ConversationSwitcher {
  readonly element: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly popup: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly listbox: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly status: HTMLElement;
  private conversations: ConversationSummary[] = [];
  private current = EVERYONE;
  private rows: Row[] = [];
  private visible: Row[] = [];
  private highlighted: Row | undefined;
  /** The rows show `conversations` as they are now. */
  private built = false;
  /** Where the focus was when the list opened: it goes back there when the list closes without a choice. */
  private returnFocus: HTMLElement | undefined;

  constructor(
    private readonly doc: Document,
    private readonly choose: (conversation: string) => void,
  ) {
    this.button = el(doc, 'button', {
      class: 'switcher-button',
      attrs: { type: 'button', 'aria-haspopup': 'listbox', 'aria-expanded': 'false', title: 'Go to conversation (Ctrl+K, ⌘K on macOS)' },
    });
    this.input = el(doc, 'input', {
      class: 'switcher-filter',
      attrs: {
        type: 'text',
        role: 'combobox',
        'aria-expanded': 'true',
        'aria-autocomplete': 'list',
        'aria-controls': `${PREFIX}-list`,
        'aria-label': 'Go to conversation',
        placeholder: 'Go to conversation (#channel or name)',
        spellcheck: 'false',
        autocomplete: 'off',
      },
    });
    this.listbox = el(doc, 'div', {
      class: 'switcher-list',
      attrs: { role: 'listbox', id: `${PREFIX}-list`, 'aria-label': 'Conversations' },
    });
    this.empty = el(doc, 'div', { class: 'switcher-empty', text: 'No conversation matches.' });
    this.status = el(doc, 'div', { class: 'sr-only', attrs: { role: 'status' } });
    this.popup = el(doc, 'div', { class: 'switcher-popup' }, this.input, this.listbox, this.empty, this.status);
    this.popup.hidden = true;
    this.element = el(doc, 'div', { class: 'switcher' }, this.button, this.popup);

    this.button.addEventListener('click', () => (this.isOpen ? this.close() : this.open()));
    this.input.addEventListener('input', () => this.filter());
    this.input.addEventListener('keydown', (e) => this.onKey(e));
    // Options take no focus: a press on one must not take it from the filter box (which would close the list).
    this.listbox.addEventListener('mousedown', (e) => e.preventDefault());
    this.listbox.addEventListener('click', (e) => {
      const id = ((e.target as Element | null)?.closest?.('[data-id]') as HTMLElement | null)?.dataset.id;
      if (id !== undefined) this.pick(id);
    });
    this.popup.addEventListener('focusout', (e) => {
      const to = e.relatedTarget as Node | null;
      if (this.isOpen && !(to && this.element.contains(to))) this.close(false);
    });
    doc.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'k' && !this.element.hidden) {
        e.preventDefault();
        // VS Code hears every key of a webview from a listener on its window, and would take this one as the start
        // of a Ctrl+K chord (the next letter typed in the filter would complete it): the view keeps it.
        e.stopPropagation();
        this.open();
      }
    });
  }

  get isOpen(): boolean {
    return !this.popup.hidden;
  }

  /** The conversations and which is on screen: the button always, the list only while it is open. */
  render(conversations: ConversationSummary[], current: string): void {
    this.conversations = conversations;
    this.current = current;
    this.built = false;
    this.renderButton();
    if (this.isOpen) this.build();
  }

  open(): void {
    if (!this.isOpen) {
      const focused = this.doc.activeElement as HTMLElement | null;
      this.returnFocus = focused && focused !== this.doc.body ? focused : undefined;
      this.popup.hidden = false;
      this.button.setAttribute('aria-expanded', 'true');
      this.input.value = '';
      // Each opening starts from the top: what waits longest is what Enter opens.
      this.highlight(undefined);
      if (this.built) this.filter();
      else this.build();
    }
    this.input.focus();
  }

  /** Closes the list; the focus goes back where it was (or to the button) unless it has already moved on. */
  close(restoreFocus = true): void {
    if (!this.isOpen) return;
    this.popup.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
    if (restoreFocus) (this.returnFocus?.isConnected ? this.returnFocus : this.button).focus();
    this.returnFocus = undefined;
  }

  private renderButton(): void {
    const doc = this.doc;
    const shown = this.conversations.find((c) => c.id === this.current);
    const name = shown ? displayName(shown) : this.current === EVERYONE ? 'Everyone' : '';
    let unread = 0;
    let mentions = 0;
    for (const c of this.conversations) {
      unread += c.unread;
      mentions += c.mentions ?? 0;
    }
    const waiting = [unread > 0 && `${unread} unread`, mentions > 0 && `${mentions} mention${mentions === 1 ? '' : 's'}`].filter(Boolean);
    this.button.className = shown ? `switcher-button ${shown.kind} ${presence(shown)}` : 'switcher-button';
    this.button.dataset.current = this.current;
    const state = shown?.kind === 'direct' ? [presence(shown)] : [];
    this.button.setAttribute('aria-label', [`Conversation: ${name}`, ...state, 'switch', ...waiting].join(', '));
    this.button.replaceChildren(
      el(doc, 'span', { class: `codicon codicon-${shown ? conversationIcon(shown) : 'broadcast'}`, attrs: { 'aria-hidden': 'true' } }),
      el(doc, 'span', { class: 'title', text: name }),
      ...countMarks(doc, unread, mentions),
      el(doc, 'span', { class: 'codicon codicon-chevron-down', attrs: { 'aria-hidden': 'true' } }),
    );
  }

  /** Builds the list's rows: one group per section, with a heading that names it. */
  private build(): void {
    const doc = this.doc;
    const keep = this.highlighted?.id;
    this.rows = [];
    const groups = arrangeConversations(this.conversations).map((section, index) => {
      const headingId = `${PREFIX}-group${index}`;
      const group = el(
        doc,
        'div',
        { class: 'switcher-group', attrs: { role: 'group', 'aria-labelledby': headingId } },
        el(doc, 'div', { class: 'switcher-heading', text: section.name, attrs: { id: headingId, role: 'presentation' } }),
      );
      for (const c of section.conversations) {
        const node = conversationRow(doc, c, c.id === this.current);
        node.id = `${PREFIX}-${c.id}`;
        group.append(node);
        this.rows.push({ id: c.id, node, text: searchText(c), group });
      }
      return group;
    });
    this.listbox.replaceChildren(...groups);
    this.built = true;
    this.highlighted = this.rows.find((r) => r.id === keep);
    this.filter();
  }

  /** Shows the rows whose name contains the filter; the highlight stays on its row if it is still shown. */
  private filter(): void {
    const query = normalizeQuery(this.input.value);
    const visible: Row[] = [];
    const groupsShown = new Set<HTMLElement>();
    for (const row of this.rows) {
      const shown = row.text.includes(query);
      if (row.node.hidden === shown) row.node.hidden = !shown;
      if (!shown) continue;
      visible.push(row);
      groupsShown.add(row.group);
    }
    for (const group of this.listbox.children as HTMLCollectionOf<HTMLElement>) group.hidden = !groupsShown.has(group);
    this.visible = visible;
    this.empty.hidden = visible.length > 0;
    this.status.textContent = query === '' ? '' : `${visible.length} conversation${visible.length === 1 ? '' : 's'}`;
    this.highlight(this.highlighted && visible.includes(this.highlighted) ? this.highlighted : visible[0]);
  }

  private highlight(row: Row | undefined): void {
    if (this.highlighted && this.highlighted !== row) {
      this.highlighted.node.classList.remove('active');
      this.highlighted.node.setAttribute('aria-selected', 'false');
    }
    this.highlighted = row;
    if (!row) {
      this.input.removeAttribute('aria-activedescendant');
      return;
    }
    row.node.classList.add('active');
    row.node.setAttribute('aria-selected', 'true');
    this.input.setAttribute('aria-activedescendant', row.node.id);
    row.node.scrollIntoView?.({ block: 'nearest' });
  }

  private onKey(event: KeyboardEvent): void {
    const count = this.visible.length;
    const index = this.highlighted ? this.visible.indexOf(this.highlighted) : -1;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (count === 0) return;
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this.highlight(this.visible[(index + step + count) % count]);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      if (this.highlighted) this.pick(this.highlighted.id);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      // The list's Escape: VS Code (see the Ctrl+K listener) is not to act on it too.
      event.stopPropagation();
      this.close();
    }
  }

  private pick(id: string): void {
    this.close(false);
    this.choose(id);
  }
}
