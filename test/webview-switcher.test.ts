import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ConversationSummary, HostToWebview } from '../src/view-protocol';
import { openSwitcher, openWebview, signedInSnapshot, switcherOptions, type WebviewPage } from './helpers/webview-dom';

/**
 * A team's conversations: Everyone, 50 channels (every 7th with unread messages, every 14th of those with mentions,
 * every 10th private, every 5th with a topic), 200 people (online, idle or offline; every 9th with unread messages),
 * three private chats.
 */
function team(): ConversationSummary[] {
  const channels = Array.from({ length: 50 }, (_, i): ConversationSummary => ({
    id: `channel:team-${i}`,
    title: `team-${i}`,
    kind: 'channel',
    unread: i % 7 === 0 ? i + 1 : 0,
    mentions: i % 14 === 0 ? i / 14 + 1 : 0,
    online: false,
    blocked: false,
    privateChannel: i % 10 === 3,
    ...(i % 5 === 0 && { topic: `topic of team-${i}` }),
  }));
  const people = Array.from({ length: 200 }, (_, i): ConversationSummary => ({
    id: `dm:user${i}`,
    title: `user${i}`,
    kind: 'direct',
    unread: i % 9 === 4 ? 1 : 0,
    online: i % 3 !== 2,
    idle: i % 3 === 1,
    blocked: i === 7,
  }));
  const chats = ['user1', 'user2', 'user3'].map((name, i): ConversationSummary => ({
    id: `private:${name}`,
    title: name,
    kind: 'private',
    unread: 0,
    online: true,
    blocked: false,
    privateState: (['direct', 'connecting', 'closed'] as const)[i]!,
  }));
  return [
    { id: 'everyone', title: 'Everyone', kind: 'everyone', unread: 0, online: false, blocked: false },
    ...channels,
    ...people,
    ...chats,
  ];
}

function snapshot(conversations: ConversationSummary[], active = 'channel:team-1'): HostToWebview {
  const items = [1, 2, 3].map((seq) => ({
    kind: 'message' as const,
    key: [seq, 0] as [number, number],
    message: {
      id: seq,
      from: 'user1',
      to: null,
      kind: 'channel' as const,
      channel: 'team-1',
      seq,
      body: `hello ${seq}`,
      sentAt: Date.now(),
    },
  }));
  return signedInSnapshot({
    conversations,
    active,
    items,
    usernames: conversations.flatMap((c) => (c.kind === 'direct' ? [c.title] : [])),
  });
}

const ids = (options: HTMLElement[]): string[] => options.map((o) => o.dataset.id!);

describe('chat webview: the conversation switcher with 50 channels and 200 people (the real bundle in jsdom)', () => {
  const pages: WebviewPage[] = [];
  const open = async (conversations = team(), active?: string): Promise<WebviewPage> => {
    const page = await openWebview();
    pages.push(page);
    page.send(snapshot(conversations, active));
    return page;
  };
  after(() => pages.forEach((p) => p.close()));

  const filterBox = (page: WebviewPage): HTMLInputElement => page.document.querySelector<HTMLInputElement>('.switcher-filter')!;
  const typeFilter = (page: WebviewPage, text: string): HTMLElement[] => {
    const input = filterBox(page);
    input.value = text;
    input.dispatchEvent(new page.window.Event('input', { bubbles: true }));
    return switcherOptions(page);
  };
  const press = (page: WebviewPage, key: string): void => {
    filterBox(page).dispatchEvent(new page.window.KeyboardEvent('keydown', { key, bubbles: true, cancelable: true }));
  };
  const highlighted = (page: WebviewPage): string | undefined =>
    page.document.getElementById(filterBox(page).getAttribute('aria-activedescendant') ?? '')?.dataset.id;

  test('every conversation once: unread first (most mentions first), then channels, people and private chats', async () => {
    const conversations = team();
    const page = await open(conversations);
    const options = openSwitcher(page);
    assert.equal(options.length, 254);
    assert.equal(new Set(ids(options)).size, 254);

    const waiting = conversations.filter((c) => c.unread > 0 || (c.mentions ?? 0) > 0);
    const byMentions = [...waiting].sort((a, b) => (b.mentions ?? 0) - (a.mentions ?? 0));
    const expected = [
      ...byMentions,
      ...conversations.filter((c) => !waiting.includes(c) && (c.kind === 'everyone' || c.kind === 'channel')),
      ...conversations.filter((c) => !waiting.includes(c) && c.kind === 'direct'),
      ...conversations.filter((c) => c.kind === 'private'),
    ];
    assert.deepEqual(
      ids(options),
      expected.map((c) => c.id),
    );
    assert.deepEqual(ids(options).slice(0, 4), ['channel:team-42', 'channel:team-28', 'channel:team-14', 'channel:team-0']);

    // Groups, each named by its heading.
    const groups = page.all('.switcher-list [role="group"]');
    assert.deepEqual(
      groups.map((g) => page.document.getElementById(g.getAttribute('aria-labelledby')!)!.textContent),
      ['Unread', 'Channels', 'People', 'Private chats'],
    );
    for (const group of groups) for (const child of group.children) assert.match(child.getAttribute('role')!, /^(option|presentation)$/);
    assert.equal(page.document.querySelector('.switcher-list')!.getAttribute('role'), 'listbox');
  });

  test('labels say what each is and what waits in it; the button shows the totals and the conversation on screen', async () => {
    const page = await open();
    const row = (id: string): HTMLElement => openSwitcher(page).find((o) => o.dataset.id === id)!;
    const labels: [string, string][] = [
      ['channel:team-28', '#team-28, channel, 29 unread, 3 mentions'],
      ['channel:team-14', '#team-14, channel, 15 unread, 2 mentions'],
      ['channel:team-3', '#team-3, private channel'],
      ['channel:team-1', '#team-1, channel'],
      ['everyone', 'Everyone, broadcasts'],
      ['dm:user0', 'user0, online'],
      ['dm:user1', 'user1, idle'],
      ['dm:user2', 'user2, offline'],
      ['dm:user4', 'user4, idle, 1 unread'],
      ['dm:user7', 'user7, idle, blocked'],
      ['private:user1', 'user1, private chat, direct, encrypted'],
      ['private:user2', 'user2, private chat, connecting…'],
      ['private:user3', 'user3, private chat, closed'],
    ];
    for (const [id, label] of labels) assert.equal(row(id).getAttribute('aria-label'), label);

    assert.equal(row('channel:team-28').querySelector('.mentions')!.textContent, '@3');
    assert.equal(row('channel:team-28').querySelector('.unread')!.textContent, '29');
    assert.equal(row('channel:team-3').querySelector('.tag.private-channel')!.textContent, 'private');
    assert.ok(row('private:user1').querySelector('.codicon-lock'));
    assert.equal(row('private:user1').querySelector('.tag.direct')!.textContent, 'direct');
    assert.ok(row('dm:user0').classList.contains('online'));
    assert.ok(row('dm:user1').classList.contains('idle'));
    assert.ok(row('dm:user2').querySelector('.codicon-circle-outline'));
    assert.equal(row('channel:team-1').getAttribute('aria-current'), 'true');
    assert.equal(page.all('[aria-current="true"]').length, 1);

    const unread = team().reduce((n, c) => n + c.unread, 0);
    const mentions = team().reduce((n, c) => n + (c.mentions ?? 0), 0);
    const button = page.document.querySelector('.switcher-button')!;
    assert.equal(button.getAttribute('aria-label'), `Conversation: #team-1, switch, ${unread} unread, ${mentions} mentions`);
    assert.equal(button.querySelector('.title')!.textContent, '#team-1');
    assert.equal(button.querySelector('.unread')!.textContent, String(unread));
    assert.equal(button.querySelector('.mentions')!.textContent, `@${mentions}`);

    // A person on screen: the button shows their presence as the list does.
    page.send({ type: 'timeline', conversation: 'dm:user1', items: [], hasOlder: false });
    assert.match(button.getAttribute('aria-label')!, /^Conversation: user1, idle, switch, /);
    assert.ok(button.classList.contains('idle'));
    assert.ok(button.querySelector('.codicon-circle-filled'));
    page.send({ type: 'timeline', conversation: 'dm:user2', items: [], hasOlder: false });
    assert.ok(button.classList.contains('offline'));
    assert.ok(button.querySelector('.codicon-circle-outline'));
  });

  test('the filter matches names anywhere, ignoring case, with the # optional for channels; the arrows move among what it shows', async () => {
    const page = await open();
    openSwitcher(page);
    const channels = (n: number[]): string[] => n.map((i) => `channel:team-${i}`);
    // team-42 (with mentions) and team-49 have unread messages: they come first.
    assert.deepEqual(ids(typeFilter(page, 'team-4')), channels([42, 49, 4, 40, 41, 43, 44, 45, 46, 47, 48]));
    assert.deepEqual(ids(typeFilter(page, '#TEAM-4')), channels([42, 49, 4, 40, 41, 43, 44, 45, 46, 47, 48]));
    assert.deepEqual(ids(typeFilter(page, ' #team-12 ')), channels([12]));
    // user193 has an unread message.
    const nineteens = [193, 19, 190, 191, 192, 194, 195, 196, 197, 198, 199].map((i) => `dm:user${i}`);
    assert.deepEqual(ids(typeFilter(page, 'user19')), nineteens);
    assert.deepEqual(ids(typeFilter(page, 'user3')).slice(-1), ['private:user3']);
    assert.deepEqual(ids(typeFilter(page, '#user')), [], 'a # asks for channels');
    assert.equal((page.document.querySelector('.switcher-empty') as HTMLElement).hidden, false);
    assert.equal(page.document.querySelector('.switcher-popup [role="status"]')!.textContent, '0 conversations');
    assert.equal(highlighted(page), undefined);
    assert.equal(page.all('.switcher-list [role="group"]').filter((g) => !(g as HTMLElement).hidden).length, 0, 'no empty groups');

    assert.deepEqual(ids(typeFilter(page, 'every')), ['everyone']);
    assert.equal((page.document.querySelector('.switcher-empty') as HTMLElement).hidden, true);
    const shown = typeFilter(page, 'user19');
    assert.equal(page.document.querySelector('.switcher-popup [role="status"]')!.textContent, '11 conversations');
    assert.equal(highlighted(page), 'dm:user193', 'the first match is highlighted');
    press(page, 'ArrowUp');
    assert.equal(highlighted(page), shown.at(-1)!.dataset.id, 'only what is shown: up from the first is the last match');
    press(page, 'ArrowDown');
    press(page, 'ArrowDown');
    assert.equal(highlighted(page), 'dm:user19');
    typeFilter(page, 'user1');
    assert.equal(highlighted(page), 'dm:user19', 'the highlight stays on its row while it is shown');
    press(page, 'Enter');
    assert.deepEqual(page.posted.at(-1), { type: 'select', conversation: 'dm:user19' });
    assert.equal(openSwitcher(page).length, 254, 'opened again: the filter is empty');
    assert.equal(highlighted(page), 'channel:team-42', 'and the highlight on the first');
  });

  test('the list is built only while open; filtering rebuilds neither the list nor the timeline', async () => {
    const page = await open();
    assert.equal(page.all('.switcher-list [role="option"]').length, 0);
    page.send({ type: 'conversations', conversations: team().map((c) => ({ ...c, unread: c.unread + 1 })) });
    assert.equal(page.all('.switcher-list [role="option"]').length, 0, 'updates while closed build nothing');
    openSwitcher(page);
    const rows = page.all('.switcher-list [role="option"]');
    const messages = page.all('.message');
    assert.equal(messages.length, 3);
    for (const text of ['t', 'te', 'team-2', 'team-', '', 'user1']) typeFilter(page, text);
    assert.deepEqual(page.all('.switcher-list [role="option"]'), rows, 'the same elements');
    assert.deepEqual(page.all('.message'), messages, 'the timeline untouched');

    // An update while open draws the list again, keeping the filter and the highlighted conversation.
    typeFilter(page, 'user1');
    press(page, 'ArrowDown');
    assert.equal(highlighted(page), 'dm:user10');
    page.send({ type: 'conversations', conversations: team() });
    assert.equal(filterBox(page).value, 'user1');
    assert.equal(highlighted(page), 'dm:user10');
    assert.ok(switcherOptions(page).every((o) => o.dataset.id!.includes('user1')));
  });

  test('signed out, there is no switcher, and Ctrl+K does not open one', async () => {
    const page = await open();
    openSwitcher(page);
    page.send({ type: 'connection', connection: { phase: 'signed-out' } });
    const switcher = page.document.querySelector('.switcher') as HTMLElement;
    assert.equal(switcher.hidden, true);
    assert.equal((page.document.querySelector('.switcher-popup') as HTMLElement).hidden, true, 'the list closed');
    page.document.body.dispatchEvent(
      new page.window.KeyboardEvent('keydown', { key: 'k', ctrlKey: true, bubbles: true, cancelable: true }),
    );
    assert.equal((page.document.querySelector('.switcher-popup') as HTMLElement).hidden, true);
  });

  test("a channel's header shows its name, its topic and whether it is private; it follows updates", async () => {
    const conversations = team();
    const page = await open(conversations, 'channel:team-10');
    const header = page.document.querySelector('.conversation-header') as HTMLElement;
    assert.equal(header.hidden, false);
    assert.equal(header.querySelector('.title')!.textContent, '#team-10');
    assert.equal(header.querySelector('.topic')!.textContent, 'topic of team-10');
    assert.equal(header.querySelector('.tag.private-channel'), null);

    page.send({ type: 'timeline', conversation: 'channel:team-13', items: [], hasOlder: false });
    assert.equal(header.querySelector('.title')!.textContent, '#team-13');
    assert.equal(header.querySelector('.topic'), null, 'no topic');
    assert.equal(header.querySelector('.tag.private-channel')!.textContent, 'private channel');
    assert.equal(page.all('.older')[0]!.textContent, 'No messages in #team-13 yet.');

    const retitled = conversations.map((c) => (c.id === 'channel:team-13' ? { ...c, topic: 'release on Friday' } : c));
    page.send({ type: 'conversations', conversations: retitled });
    assert.equal(header.querySelector('.topic')!.textContent, 'release on Friday');

    page.send({ type: 'timeline', conversation: 'dm:user0', items: [], hasOlder: false });
    assert.equal(header.hidden, true, 'no header for a person');
  });
});
