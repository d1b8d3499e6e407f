import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChatState } from '../src/extension/core/chat-state';
import { shareBody, shareTooLong } from '../src/extension/core/share';
import { statusText } from '../src/extension/core/status';
import { normalizeOrigin, normalizeServerAddress } from '../src/protocol/origin';
import { chatHtml } from '../src/extension/core/webview-html';
import { classifyLink, locationHref, parseLocation } from '../src/view-protocol';

describe('extension pieces without VS Code', () => {
  test('links: only http(s) opens outside; workspace locations open in the editor; everything else is refused', () => {
    assert.deepEqual(classifyLink('https://example.com/a?b=1'), { kind: 'external', url: 'https://example.com/a?b=1' });
    assert.equal(classifyLink('http://127.0.0.1:4000').kind, 'external');
    for (const bad of [
      'javascript:alert(1)',
      ' JavaScript:alert(1)',
      'vbscript:x',
      'data:text/html,x',
      'file:///etc/passwd',
      'command:workbench.action.terminal.new',
      'vscode://x',
      'mailto:a@b.c',
      'relative/path',
    ]) {
      assert.equal(classifyLink(bad).kind, 'refused', bad);
    }
    assert.deepEqual(classifyLink('src/app.ts#L3-L5'), { kind: 'location', path: 'src/app.ts', line: 3, endLine: 5 });
    assert.deepEqual(parseLocation('README.md#L1'), { path: 'README.md', line: 1, endLine: 1 });
    assert.deepEqual(parseLocation('my%20dir/a%23b.ts#L2'), { path: 'my dir/a#b.ts', line: 2, endLine: 2 });
    for (const bad of [
      '../secret.txt#L1',
      '/etc/passwd#L1',
      'a/../../b#L1',
      'C:/x.ts#L1',
      'a\\b#L1',
      'src/a.ts#L0',
      'src/a.ts#L5-L2',
      'src/a.ts',
    ]) {
      assert.equal(parseLocation(bad), undefined, bad);
    }
    assert.equal(locationHref('my dir/a#b.ts', 2, 4), 'my%20dir/a%23b.ts#L2-L4');
  });

  test('sharing a selection: a link to the place and a fence longer than any backticks in the code', () => {
    const body = shareBody({
      path: 'src/x.ts',
      startLine: 3,
      endLine: 4,
      languageId: 'typescript',
      code: 'const s = `a`;\nconst t = ```;\n',
    });
    assert.equal(body, '[src/x.ts:3-4](src/x.ts#L3-L4)\n````typescript\nconst s = `a`;\nconst t = ```;\n````');
    assert.equal(
      shareBody({ path: 'a.py', startLine: 7, endLine: 7, languageId: 'python', code: 'x = 1' }),
      '[a.py:7](a.py#L7)\n```python\nx = 1\n```',
    );
    assert.equal(shareTooLong(body), undefined);
    assert.match(shareTooLong('x'.repeat(5000)) ?? '', /at most 4000/);
  });

  test('status bar words follow the connection, people online and unread', () => {
    const state = new ChatState();
    assert.match(statusText(state).text, /Parley: offline/);
    state.setConnection({ phase: 'connecting', url: 'http://h:1' });
    assert.match(statusText(state).text, /connecting/);
    state.reset('alice');
    state.setConnection({ phase: 'signed-in', url: 'http://h:1', username: 'alice' });
    state.setOnline(['bob', 'carol', 'dave']);
    assert.equal(statusText(state).text, '$(comment-discussion) signed in as alice · 3 online');
    state.addMessages(
      [
        { id: 1, from: 'bob', to: 'alice', kind: 'direct', body: 'x', sentAt: 1 },
        { id: 2, from: 'bob', to: 'alice', kind: 'direct', body: 'y', sentAt: 2 },
      ],
      true,
    );
    assert.equal(statusText(state).text, '$(comment-discussion) signed in as alice · 3 online · 2 unread');
    state.setConnection({ phase: 'reconnecting', username: 'alice', message: 'Connection lost; reconnecting…' });
    assert.match(statusText(state).text, /reconnecting/);
    state.setConnection({ phase: 'private-only', username: 'alice', message: 'Signed out. Private chats with bob stay open.' });
    assert.equal(statusText(state).text, '$(lock) Parley: private chats only');
    assert.match(statusText(state).tooltip, /Private chats with bob stay open\. Click to sign in again\.$/);
  });

  test('server addresses are normalised; anything but http(s)/ws(s) is refused', () => {
    assert.equal(normalizeServerAddress('127.0.0.1:4000'), 'http://127.0.0.1:4000');
    assert.equal(normalizeServerAddress(' https://chat.example.com/ '), 'https://chat.example.com');
    assert.equal(normalizeServerAddress('ws://10.0.0.2:4000'), 'http://10.0.0.2:4000');
    assert.equal(normalizeServerAddress('WSS://chat.example.com'), 'https://chat.example.com');
    assert.equal(normalizeServerAddress('ftp://x'), undefined);
    assert.equal(normalizeServerAddress(''), undefined);
    assert.equal(normalizeServerAddress('http://'), undefined);
  });

  test('web origins must be written out: no bare host, nothing but http(s)', () => {
    assert.equal(normalizeOrigin('https://chat.example.org/'), 'https://chat.example.org');
    assert.equal(normalizeOrigin('chat.example.org'), undefined);
    assert.equal(normalizeOrigin('chat.example.org:4000'), undefined);
    assert.equal(normalizeOrigin('file:///tmp/x.html'), undefined);
    assert.equal(normalizeOrigin('ws://10.0.0.2:4000'), undefined);
  });

  test('the webview page has a strict CSP with a nonce, and no inline script or style', () => {
    const html = chatHtml({
      cspSource: 'https://cdn.vscode-resource',
      scriptUri: 'https://r/w.js',
      styleUri: 'https://r/c.css',
      codiconUri: 'https://r/i.css',
      nonce: 'abc123',
    });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)![1]!;
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abc123'/);
    assert.match(csp, /style-src https:\/\/cdn\.vscode-resource(;|$)/);
    assert.match(csp, /font-src https:\/\/cdn\.vscode-resource(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.match(html, /<script nonce="abc123" src="https:\/\/r\/w\.js"><\/script>/);
    assert.doesNotMatch(html, /<style|style=|\son[a-z]+=/);
  });
});
