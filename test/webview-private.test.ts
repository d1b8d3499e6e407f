import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ConversationSummary, HostToWebview, PrivateState } from '../src/view-protocol';
import { openSwitcher, openWebview, type WebviewPage } from './helpers/webview-dom';

const NOW = Date.now();

function conversations(state: PrivateState): ConversationSummary[] {
  return [
    { id: 'everyone', title: 'Everyone', kind: 'everyone', unread: 0, online: false, blocked: false },
    { id: 'private:bob', title: 'bob', kind: 'private', unread: 1, online: true, blocked: false, privateState: state },
    { id: 'dm:bob', title: 'bob', kind: 'direct', unread: 0, online: true, blocked: false },
  ];
}

function snapshot(state: PrivateState, active = 'private:bob'): HostToWebview {
  return {
    type: 'snapshot',
    me: 'alice',
    connection: { phase: 'signed-in', username: 'alice', url: 'http://127.0.0.1:4000' },
    conversations: conversations(state),
    active,
    items: [
      {
        kind: 'message',
        key: [1, 0],
        message: { id: 1, from: 'bob', to: 'alice', kind: 'private', body: 'just us', sentAt: NOW - 1000 },
      },
    ],
    hasOlder: false,
    usernames: ['bob'],
  };
}

describe('chat webview: private conversations (the real bundle in jsdom)', () => {
  const pages: WebviewPage[] = [];
  const open = async (): Promise<WebviewPage> => {
    const page = await openWebview();
    pages.push(page);
    return page;
  };
  after(() => pages.forEach((p) => p.close()));

  test('a private conversation has a lock codicon and a "direct" marker; its header shows the channel state and that nothing is stored', async () => {
    const page = await open();
    page.send(snapshot('direct'));
    const row = openSwitcher(page).find((b) => b.getAttribute('data-id') === 'private:bob')!;
    assert.ok(row.querySelector('.codicon-lock'), 'lock codicon on the row');
    assert.equal(row.querySelector('.tag.direct')?.textContent, 'direct');
    assert.match(row.getAttribute('aria-label')!, /bob, private chat, direct, encrypted, 1 unread/);
    const direct = openSwitcher(page).find((b) => b.getAttribute('data-id') === 'dm:bob')!;
    assert.equal(direct.querySelector('.codicon-lock'), null, 'the server conversation is not marked');

    const header = page.all('.conversation-header')[0] as HTMLElement;
    assert.equal(header.hidden, false);
    assert.ok(header.querySelector('.codicon-lock'));
    assert.match(header.textContent!, /Private chat with bob/);
    assert.match(header.textContent!, /direct, encrypted/);
    assert.match(header.textContent!, /not stored on the server/);

    const message = page.all('.message')[0]!;
    assert.ok(message.classList.contains('private'));
    assert.match(message.querySelector('.tag.private')!.textContent!, /private/);
    assert.ok(message.querySelector('.tag.private .codicon-lock'));
    assert.match(page.document.querySelector('textarea')!.placeholder, /privately/);
  });

  test('the state follows the channel: connecting, then closed; other conversations have no private header', async () => {
    const page = await open();
    page.send(snapshot('connecting'));
    const header = (): HTMLElement => page.all('.conversation-header')[0] as HTMLElement;
    assert.ok(header().classList.contains('connecting'));
    assert.match(header().textContent!, /connecting/);
    const row = (): Element => openSwitcher(page).find((b) => b.getAttribute('data-id') === 'private:bob')!;
    assert.equal(row().querySelector('.tag.state')?.textContent, 'connecting');

    // The header is a status region: an update that changes nothing in it (an unread count) leaves it alone,
    // so a screen reader does not read it again.
    const said = [...header().childNodes];
    page.send({ type: 'conversations', conversations: conversations('connecting').map((c) => ({ ...c, unread: c.unread + 1 })) });
    said.forEach((node, i) => assert.equal(header().childNodes[i], node, 'the same node'));
    page.send({ type: 'conversations', conversations: conversations('closed') });
    assert.notEqual(header().firstChild, said[0]);
    assert.ok(header().classList.contains('closed'));
    assert.match(header().querySelector('.tag.state')!.textContent!, /closed/);
    assert.equal(row().querySelector('.tag.state')?.textContent, 'closed');
    assert.match(page.document.querySelector('textarea')!.placeholder, /is closed; "\/startprivate bob" opens it/);

    page.send({ type: 'timeline', conversation: 'dm:bob', items: [], hasOlder: false });
    assert.equal(header().hidden, true);
  });

  test('signed out by the server with a private chat open: a still banner, and only the private conversation takes text', async () => {
    const page = await open();
    page.send(snapshot('direct'));
    const message = 'You were signed out after 30 minutes without activity. Private chats with bob stay open (direct).';
    page.send({ type: 'connection', me: 'alice', connection: { phase: 'private-only', username: 'alice', message } });
    const banner = page.document.querySelector('.banner') as HTMLElement;
    assert.equal(banner.hidden, false);
    assert.match(banner.textContent!, /Private chats with bob stay open/);
    assert.ok(banner.querySelector('.codicon-lock'), 'a lock');
    assert.equal(banner.querySelector('.codicon-modifier-spin'), null, 'no spinner: nothing is reconnecting');
    assert.equal((page.document.querySelector('.welcome') as HTMLElement).hidden, true, 'the conversations stay on screen');
    const textarea = page.document.querySelector('textarea')!;
    assert.equal(textarea.disabled, false, 'the private chat can still be written in');

    page.send({ type: 'timeline', conversation: 'dm:bob', items: [], hasOlder: false });
    assert.equal(textarea.disabled, true, 'a conversation through the server cannot');
    assert.match(textarea.placeholder, /only private chats are open/);
  });
});
