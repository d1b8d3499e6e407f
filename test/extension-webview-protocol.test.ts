import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseHostMessage, parseWebviewMessage } from '../src/view-protocol';

const message = { id: 1, from: 'bob', to: 'alice', kind: 'direct', body: 'hi', sentAt: 1 };

describe('host ↔ webview messages are validated on receipt, both ways', () => {
  test('the host accepts well-formed webview messages', () => {
    for (const ok of [
      { type: 'ready' },
      { type: 'ready', active: 'dm:bob' },
      { type: 'select', conversation: 'everyone' },
      { type: 'send', requestId: 0, conversation: 'dm:a.b-c_d', text: 'hello' },
      { type: 'loadOlder', conversation: 'everyone', before: [10, 0] },
      { type: 'openLink', href: 'https://x' },
      { type: 'action', action: 'connect' },
    ]) {
      assert.equal(parseWebviewMessage(ok).ok, true, JSON.stringify(ok));
    }
  });

  test('the host refuses malformed webview messages', () => {
    for (const bad of [
      undefined,
      42,
      [],
      { type: 'ready', extra: 1 },
      { type: 'select', conversation: 'dm:' },
      { type: 'select', conversation: 'dm:<script>' },
      { type: 'select', conversation: 'general' },
      { type: 'send', requestId: 1.5, conversation: 'everyone', text: 'x' },
      { type: 'send', requestId: 1, conversation: 'everyone', text: '' },
      { type: 'send', requestId: 1, conversation: 'everyone', text: 'x'.repeat(5000) },
      { type: 'loadOlder', conversation: 'everyone', before: [-1, 0] },
      { type: 'openLink', href: '' },
      { type: 'action', action: 'exec' },
      { type: '__proto__' },
    ]) {
      const parsed = parseWebviewMessage(bad);
      assert.equal(parsed.ok, false, JSON.stringify(bad));
      assert.ok(!parsed.ok && parsed.error.length > 0);
    }
  });

  test('the webview accepts well-formed host messages and refuses malformed ones', () => {
    const good = [
      { type: 'items', conversation: 'dm:bob', items: [{ kind: 'message', key: [1, 0], message }], live: true },
      {
        type: 'items',
        conversation: 'dm:bob',
        items: [{ kind: 'notice', key: [1, 2], at: 5, text: 'x', tone: 'presence' }],
        live: false,
        hasOlder: true,
      },
      { type: 'connection', connection: { phase: 'signed-out' } },
      {
        type: 'conversations',
        conversations: [{ id: 'everyone', title: 'Everyone', kind: 'everyone', unread: 0, online: false, blocked: false }],
      },
      { type: 'sendResult', requestId: 3, ok: false, error: 'no' },
      { type: 'focusComposer' },
    ];
    for (const ok of good) assert.equal(parseHostMessage(ok).ok, true, JSON.stringify(ok));
    const bad = [
      null,
      { type: 'items', conversation: 'dm:bob', items: [{ kind: 'message', key: [1, 0], message: { ...message, id: 0 } }], live: true },
      {
        type: 'items',
        conversation: 'dm:bob',
        items: [{ kind: 'message', key: [1, 0], message: { ...message, html: '<b>' } }],
        live: true,
      },
      { type: 'items', conversation: 'dm:bob', items: [{ kind: 'notice', key: [1, 2], at: 5, text: 'x', tone: 'html' }], live: true },
      {
        type: 'items',
        conversation: 'dm:bob',
        items: [{ kind: 'message', key: [1, 0], message: { ...message, body: 'x'.repeat(4001) } }],
        live: true,
      },
      { type: 'connection', connection: { phase: 'hacked' } },
      {
        type: 'conversations',
        conversations: [{ id: 'everyone', title: 'x', kind: 'everyone', unread: -1, online: false, blocked: false }],
      },
      { type: 'eval', code: 'alert(1)' },
    ];
    for (const b of bad) assert.equal(parseHostMessage(b).ok, false, JSON.stringify(b));
  });
});
