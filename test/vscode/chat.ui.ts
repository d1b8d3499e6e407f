// What a person sees and does with the packaged extension in a real VS Code (code-server + Chromium):
// sign-in lockout, a conversation with another user, and hostile text shown inert; in the high contrast theme, where
// the chat view must draw with borders and keep its focus ring visible.
// Run with `npm run test:vscode`; screenshots and logs go to .test-artifacts/vscode/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ParleyClient } from '../../src/client/parley-client';
import { eventually, next, passwordOf, startServer, type TestServer } from '../helpers/server';
import { VsCode, openConversation } from './harness';

/** A user keybinding runs parley.connect with arguments (the palette passes none). */
const CONNECT_ALICE = { vscode: 'ctrl+alt+shift+f5', playwright: 'Control+Alt+Shift+F5' };

describe('Parley in VS Code (code-server + Chromium)', { timeout: 300_000 }, () => {
  let server: TestServer;
  let vscode: VsCode;
  let bob: ParleyClient;
  let failedLogins = 0;

  before(async () => {
    // The server's log tells the test when a sign-in attempt has arrived, so that each answer goes to its own box.
    const log = {
      debug: () => {},
      info: () => {},
      error: () => {},
      warn: (message: string) => void (message === 'failed login' && failedLogins++),
    };
    server = await startServer({ users: ['alice', 'bob', 'carol'], log });
    bob = await server.signIn('bob');
    vscode = await VsCode.launch({
      name: 'chat',
      settings: { 'workbench.colorTheme': 'Default High Contrast' },
      keybindings: [
        {
          key: CONNECT_ALICE.vscode,
          command: 'parley.connect',
          args: { url: server.url, username: 'alice', password: passwordOf('alice') },
        },
      ],
    });
  });

  after(async () => {
    await vscode?.close();
    await server?.close();
  });

  it('(9) three wrong passwords show the lockout with the seconds remaining', async () =>
    vscode.step('lockout', async () => {
      await vscode.runCommand('Parley: Connect to Server…');
      await vscode.answer(server.url, /address of the Parley server/);
      await vscode.answer('carol', /Your username on/);
      // A person types a wrong password three times; the box asks again after each, saying how many attempts are left.
      for (const [i, password] of ['wrong-1', 'wrong-2', 'wrong-3'].entries()) {
        const prompt = i === 0 ? /Password for carol on/ : new RegExp(`Password for carol on .*wrong password: ${3 - i} attempts? left`);
        for (let tries = 0; failedLogins <= i; tries++) {
          assert.ok(tries < 5, `the server never saw attempt ${i + 1}`);
          if (i === 1 && tries === 0) {
            await vscode.page.locator('.quick-input-widget', { hasText: prompt }).waitFor({ state: 'visible', timeout: 30_000 });
            await vscode.screenshot('attempts-left-in-the-box');
          }
          await vscode.answer(password, prompt);
          await eventually(() => failedLogins > i, 5000, `attempt ${i + 1}`).catch(() => undefined);
        }
      }
      const toast = vscode.toast(/Too many wrong passwords/);
      await toast.waitFor({ state: 'visible', timeout: 30_000 });
      const shot = await vscode.screenshot('lockout');
      const text = await toast.locator('.notification-list-item-message').innerText();
      const seconds = Number(/carol is locked out for (\d+) seconds?\. Try again after that\./.exec(text)?.[1]);
      assert.ok(seconds > 0 && seconds <= 60, `lockout toast "${text}" (${shot})`);
      // The lockout is the only word left on screen: no "connecting…" progress, no warnings from earlier attempts.
      const toasts = await vscode.page.locator('.notifications-toasts .notification-toast').count();
      assert.equal(toasts, 1, `one toast, the lockout (${shot})`);
      assert.match(await vscode.statusBarText(), /Parley: offline/);
      await vscode.runCommand('Notifications: Clear All Notifications');
      await vscode.page.keyboard.press('Escape');
    }));

  it('(2) bob’s message appears with its sender; alice replies from the chat view and bob gets it', async () =>
    vscode.step('conversation', async () => {
      await vscode.chord(CONNECT_ALICE.playwright);
      await vscode.waitForStatus(/signed in as alice/);
      await vscode.runCommand('Parley: Open Chat');
      const view = vscode.webview();
      const input = view.locator('textarea');
      await input.waitFor({ state: 'visible', timeout: 30_000 });

      await bob.message('alice', 'hello alice, this is bob');
      await openConversation(view, 'dm:bob');
      const message = view.locator('.message', { hasText: 'hello alice, this is bob' }).first();
      await message.waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal((await message.locator('.from').innerText()).trim(), 'bob');
      assert.match(await message.locator('time').innerText(), /\d/);
      await vscode.screenshot('bob-message');

      const received = next(bob, 'message', (m) => m.body === 'hi bob, alice here', 30_000);
      await input.click();
      await input.fill('hi bob, alice here');
      await input.press('Enter');
      const [reply] = await received;
      assert.equal(reply.from, 'alice');
      assert.equal(reply.to, 'bob');
      const own = view.locator('.message.own', { hasText: 'hi bob, alice here' }).first();
      await own.waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal((await own.locator('.from').innerText()).trim(), 'alice (you)');
      await vscode.screenshot('alice-reply');

      // Ctrl+K inside the view opens the switcher, and it is the view's alone: VS Code, which hears every key the
      // view does, must not take it as the start of one of its Ctrl+K chords (the next letter typed in the filter would
      // run a command: Ctrl+K M changes the language mode).
      await input.press('Control+k');
      const filter = view.locator('.switcher-filter');
      await filter.waitFor({ state: 'visible', timeout: 10_000 });
      await vscode.page.keyboard.type('bo');
      await view.locator('.switcher-list .conversation.active[data-id="dm:bob"]').waitFor({ state: 'visible', timeout: 10_000 });
      const chordShot = await vscode.screenshot('switcher-ctrl-k');
      assert.doesNotMatch(await vscode.statusBarText(), /second key of chord|is not a command/, `see ${chordShot}`);
      assert.equal(await vscode.page.locator('.quick-input-widget:visible').count(), 0, `no quick pick: see ${chordShot}`);
      await filter.press('Escape');

      // High contrast: the switcher's button, reached with the keyboard (Shift+Tab from the timeline), has the focus
      // ring in the focus colour outside its border; in the list it opens, the highlighted conversation has a border
      // of the theme's active colour.
      const button = view.locator('.switcher-button');
      await view.locator('.timeline').press('Shift+Tab');
      const shot = await vscode.screenshot('high-contrast-focus');
      // (No named functions in here: tsx would wrap them in a helper that the page does not have.)
      const look = await button.evaluate((el) => {
        const tab = el as HTMLElement;
        const doc = tab.ownerDocument;
        // The theme's colours as the browser computes colours (rgb(…)), read from probes styled with them.
        const [active, focus] = ['--vscode-contrastActiveBorder', '--vscode-focusBorder'].map((variable) => {
          const probe = doc.createElement('span');
          probe.style.color = `var(${variable})`;
          doc.body.append(probe);
          const value = getComputedStyle(probe).color;
          probe.remove();
          return value;
        });
        const style = getComputedStyle(tab);
        return {
          highContrast: doc.body.classList.contains('vscode-high-contrast'),
          focused: doc.activeElement === tab && tab.matches(':focus-visible'),
          ring: [style.outlineStyle, style.outlineColor === focus, style.outlineOffset],
          active,
        };
      });
      const { active, ...seen } = look;
      assert.deepEqual(seen, { highContrast: true, focused: true, ring: ['solid', true, '1px'] }, `see ${shot}`);
      await button.press('Enter');
      const highlighted = view.locator('.switcher-list .conversation.active');
      await highlighted.waitFor({ state: 'visible', timeout: 30_000 });
      const listShot = await vscode.screenshot('high-contrast-switcher');
      const border = await highlighted.evaluate((el) => {
        const style = getComputedStyle(el as Element);
        return [style.borderTopStyle, style.borderTopColor];
      });
      assert.deepEqual(border, ['solid', active], `see ${listShot}`);
      await view.locator('.switcher-filter').press('Escape');
    }));

  it('(8) hostile text from another user shows as inert text', async () =>
    vscode.step('hostile', async () => {
      const hostile = [
        '<script>globalThis.__parleyPwned = "script"</script>',
        '<img src=x onerror="globalThis.__parleyPwned = \'img\'">',
        "[click me](javascript:globalThis.__parleyPwned='link')",
      ];
      for (const text of hostile) await bob.message('alice', text);
      const view = vscode.webview();
      await openConversation(view, 'dm:bob');
      for (const text of ['<script>globalThis.__parleyPwned', '<img src=x onerror=', 'javascript:globalThis.__parleyPwned']) {
        await view.locator('.message .body', { hasText: text }).first().waitFor({ state: 'visible', timeout: 30_000 });
      }
      const shot = await vscode.screenshot('hostile-text');
      const timeline = view.locator('.timeline');
      const found = await timeline.evaluate((el) => {
        const root = el as { querySelectorAll(s: string): { length: number } };
        return {
          scripts: root.querySelectorAll('.message script').length,
          images: root.querySelectorAll('.message img').length,
          handlers: root.querySelectorAll('.message [onerror]').length,
          jsLinks: root.querySelectorAll('.message a[href^="javascript:" i]').length,
          pwned: (globalThis as { __parleyPwned?: string }).__parleyPwned ?? null,
        };
      });
      assert.deepEqual(found, { scripts: 0, images: 0, handlers: 0, jsLinks: 0, pwned: null }, `see ${shot}`);
    }));
});
