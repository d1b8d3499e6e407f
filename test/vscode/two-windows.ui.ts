// Two people, each in a real VS Code (two code-servers + Chromium), on one message center that the test runs as
// its own process: a conversation (also the README's screenshots), presence, offline delivery, blocking, a server
// restart, a private chat, the composer's "/" commands, and #general while bob is away (the unread line, the badges
// and the switcher, read in a second window of bob's). Run with `npm run test:vscode`; PARLEY_UPDATE_DOCS=1 also
// copies the two conversation screenshots to docs/. Each scenario leaves both signed in, unblocked, on their direct
// conversation.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ParleyClient } from '../../src/client/parley-client';
import { ROOT, VsCode, openConversation, waitUntil, type FrameLocator, type Keybinding, type Locator, type Workbench } from './harness';
import { ServerProcess } from './server-process';

const PASSWORDS = { alice: 'alice-password', bob: 'bob-password', carol: 'carol-password' };
type Name = 'alice' | 'bob';
const GENERAL = 'channel:general';
/** The side bar with the chat and people views, and a little of the editor beside it. */
const CLIP = { x: 0, y: 0, width: 640, height: 560 };

/** Chords bound to commands with arguments (the palette passes none); Playwright's spelling, then VS Code's. */
const KEYS = {
  connect: ['Control+Alt+Shift+F5', 'ctrl+alt+shift+f5'],
  message: ['Control+Alt+Shift+F6', 'ctrl+alt+shift+f6'],
  unblock: ['Control+Alt+Shift+F7', 'ctrl+alt+shift+f7'],
  private: ['Control+Alt+Shift+F8', 'ctrl+alt+shift+f8'],
} as const;

/** One person's window, and what they do in it. */
class Person<W extends Workbench = VsCode> {
  constructor(
    readonly name: Name,
    readonly other: Name,
    readonly vscode: W,
  ) {}

  static async launch(name: Name, server: ServerProcess, theme: string): Promise<Person> {
    const other: Name = name === 'alice' ? 'bob' : 'alice';
    const bind = (key: (typeof KEYS)[keyof typeof KEYS], command: string, args: unknown): Keybinding => ({ key: key[1], command, args });
    const vscode = await VsCode.launch({
      name: `two-windows-${name}`,
      settings: {
        'workbench.colorTheme': theme,
        // The AI chat's secondary side bar would take a third of the screenshots.
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'chat.disableAIFeatures': true,
      },
      keybindings: [
        bind(KEYS.connect, 'parley.connect', { url: server.url, username: name, password: PASSWORDS[name] }),
        bind(KEYS.message, 'parley.messagePerson', other),
        bind(KEYS.unblock, 'parley.unblockPerson', other),
        bind(KEYS.private, 'parley.startPrivateChat', other),
      ],
    });
    return new Person(name, other, vscode);
  }

  get view(): FrameLocator {
    return this.vscode.webview();
  }

  async signIn(): Promise<void> {
    await this.vscode.chordUntilStatus(KEYS.connect[0], /Parley: connecting|signed in as/);
    await this.vscode.waitForStatus(new RegExp(`signed in as ${this.name}`));
  }

  /** Opens the direct conversation with the other person, composer focused. */
  async openDirect(): Promise<void> {
    await this.vscode.chord(KEYS.message[0]);
    await this.view.locator(`.switcher-button[data-current="dm:${this.other}"]`).waitFor({ state: 'visible', timeout: 30_000 });
  }

  /** Opens a conversation from the switcher. */
  async open(conversation: string): Promise<void> {
    await openConversation(this.view, conversation);
  }

  async send(text: string): Promise<void> {
    const input = this.view.locator('textarea');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    await input.click();
    await input.fill(text);
    await input.press('Enter');
  }

  message(text: string): Locator {
    return this.view.locator('.message', { hasText: text });
  }

  /** Waits for a message to show and returns how many times it shows. */
  async seen(text: string): Promise<number> {
    await this.message(text).first().waitFor({ state: 'visible', timeout: 30_000 });
    return this.message(text).count();
  }

  notice(text: string | RegExp, tone: 'presence' | 'info' | 'error'): Locator {
    return this.view.locator(`.notice.${tone}`, { hasText: text }).first();
  }

  /** Waits until the badge on the chat view's icon in the activity bar reads `expected` ('' for none). */
  async waitForBadge(expected: string): Promise<void> {
    const badge = (): Promise<string> => this.vscode.activityBadge('Parley');
    await waitUntil(`${this.vscode.name}'s badge "${expected}"`, badge, (value) => value === expected);
  }

  /**
   * Opens the switcher and checks that `conversation` comes first, under Unread, with these counts (which the
   * switcher's button adds up too); a screenshot of it.
   */
  async expectFirstInSwitcher(conversation: string, unread: number, mentions: number, shot: string): Promise<void> {
    const button = this.view.locator('.switcher-button');
    await button.locator('.unread', { hasText: String(unread) }).waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await button.locator('.mentions').innerText(), `@${mentions}`);
    await button.click();
    const first = this.view.locator('.switcher-list .conversation:not([hidden])').first();
    await first.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await this.view.locator('.switcher-heading').first().textContent(), 'Unread');
    assert.equal(await first.getAttribute('data-id'), conversation, 'the unread conversation comes first');
    assert.equal(await first.locator('.unread').innerText(), String(unread));
    assert.equal(await first.locator('.mentions').innerText(), `@${mentions}`);
    const label = `${unread} unread, ${mentions} mention${mentions === 1 ? '' : 's'}`;
    assert.match((await first.getAttribute('aria-label')) ?? '', new RegExp(`, ${label}$`));
    await this.vscode.screenshot(shot, CLIP);
    await this.view.locator('.switcher-filter').press('Escape');
  }

  /** Opens a conversation and checks that the "new since you last read" line stands right above `text`; a screenshot. */
  async expectUnreadLine(conversation: string, text: string, shot: string): Promise<void> {
    await this.open(conversation);
    const line = this.view.locator('.unread-line');
    await line.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await line.count(), 1);
    assert.equal(await line.getAttribute('aria-label'), 'New since you last read');
    assert.match(
      await this.view.locator('.unread-line + .message').innerText(),
      new RegExp(`${this.other}\\s[\\s\\S]*${text.replace(/[.?@]/g, '\\$&')}`),
    );
    await this.vscode.screenshot(shot, CLIP);
  }

  /** Waits until nothing is unread: no badge, no count in the status bar or on the switcher's button. */
  async expectAllRead(): Promise<void> {
    await this.waitForBadge('');
    const read = (text: string): boolean => new RegExp(`signed in as ${this.name}`).test(text) && !/unread/.test(text);
    await waitUntil(`${this.vscode.name}'s status bar without unread`, () => this.vscode.statusBarText(), read);
    await this.view.locator('.switcher-button .unread').waitFor({ state: 'detached', timeout: 30_000 });
    assert.equal(await this.view.locator('.switcher-button .mentions').count(), 0);
  }

  async quickPick(title: string | RegExp): Promise<Locator> {
    const widget = this.vscode.page.locator('.quick-input-widget', { hasText: title });
    await widget.waitFor({ state: 'visible', timeout: 30_000 });
    return widget;
  }
}

describe('Two people in two VS Code windows (code-server + Chromium)', { timeout: 600_000 }, () => {
  let server: ServerProcess;
  let alice: Person;
  let bob: Person;
  let carol: ParleyClient | undefined;

  before(async () => {
    server = await ServerProcess.start('two-windows', PASSWORDS);
    [alice, bob] = await Promise.all([
      Person.launch('alice', server, 'Default Light Modern'),
      Person.launch('bob', server, 'Default Dark Modern'),
    ]);
    for (const person of [alice, bob]) {
      await person.signIn();
      await person.openDirect();
    }
  });

  after(async () => {
    carol?.close();
    await Promise.all([alice?.vscode.close(), bob?.vscode.close()]);
    await server?.close();
  });

  it('(2) a conversation between the two windows (the README screenshots, light and dark)', async () =>
    alice.vscode.step('conversation', async () => {
      const lines: [Person, string][] = [
        [alice, 'Morning! Did the nightly build pass?'],
        [bob, 'It did, all green. The flaky **upload test** is fixed too.'],
        [alice, 'Great, thanks. I will tag the release after lunch.'],
        [bob, 'Sounds good; ping me if you need a review of `CHANGELOG.md`.'],
      ];
      for (const [from, text] of lines) {
        await from.send(text);
        const plain = text.replace(/[*`]/g, '');
        for (const person of [alice, bob]) assert.equal(await person.seen(plain), 1, `${person.name} sees "${plain}" once`);
      }
      const light = await alice.vscode.screenshot('conversation-light', CLIP);
      const dark = await bob.vscode.screenshot('conversation-dark', CLIP);
      if (process.env.PARLEY_UPDATE_DOCS === '1') {
        copyFileSync(light, join(ROOT, 'docs', 'screenshot-light.png'));
        copyFileSync(dark, join(ROOT, 'docs', 'screenshot-dark.png'));
      }
      // The switcher over the conversation, in both themes: it lists the direct conversation, the one on screen.
      for (const [person, theme] of [
        [alice, 'light'],
        [bob, 'dark'],
      ] as const) {
        await person.view.locator('.switcher-button').click();
        await person.view
          .locator(`.switcher-list .conversation.current[data-id="dm:${person.other}"]`)
          .waitFor({ state: 'visible', timeout: 30_000 });
        await person.vscode.screenshot(`switcher-${theme}`, CLIP);
        await person.view.locator('.switcher-filter').press('Escape');
      }
    }));

  it('(3) bob signs out: alice sees him go offline, and Who Else / Who Was Online Recently say so', async () =>
    alice.vscode.step('presence', async () => {
      carol = new ParleyClient(server.url);
      await carol.connect();
      await carol.login('carol', PASSWORDS.carol);
      await alice.vscode.waitForStatus(/signed in as alice · 2 online/);

      await bob.vscode.runCommand('Parley: Sign Out');
      await bob.vscode.waitForStatus(/Parley: offline/);
      await alice.notice('bob went offline', 'presence').waitFor({ state: 'visible', timeout: 30_000 });
      await alice.vscode.waitForStatus(/signed in as alice · 1 online/);
      await alice.vscode.screenshot('bob-went-offline');

      await alice.vscode.runCommand('Parley: Who Else Is Online');
      const whoElse = await alice.quickPick('Parley: Online now:');
      assert.match(await whoElse.innerText(), /Online now: carol\b/);
      assert.doesNotMatch(await whoElse.innerText(), /\bbob\b/);
      await alice.vscode.screenshot('who-else');
      await alice.vscode.page.keyboard.press('Escape');

      await alice.vscode.runCommand('Parley: Who Was Online Recently…');
      await alice.quickPick(/How many minutes back\? \(1-59\)/);
      const input = alice.vscode.page.locator('.quick-input-widget input.input');
      await input.fill('60');
      await alice.quickPick('A whole number from 1 to 59');
      await input.fill('5');
      await alice.quickPick(/How many minutes back/);
      await input.press('Enter');
      const whoLast = await alice.quickPick('Online in the last 5 minutes');
      const text = await whoLast.innerText();
      assert.match(text, /Online in the last 5 minutes: .*\bbob\b/, text);
      await whoLast.locator('.monaco-list-row', { hasText: 'bob' }).first().waitFor({ state: 'visible' });
      assert.match(await whoLast.locator('.monaco-list-row', { hasText: 'bob' }).first().innerText(), /recently online/);
      await alice.vscode.screenshot('who-was-online');
      await alice.vscode.page.keyboard.press('Escape');
    }));

  it('(4) alice writes to bob while he is signed out; he signs in and sees it exactly once', async () =>
    alice.vscode.step('offline-delivery', async () => {
      await alice.openDirect();
      await alice.send('Left you a note: the release is tagged v1.4.0.');
      assert.equal(await alice.seen('the release is tagged v1.4.0'), 1);
      await alice.notice('bob is offline and will get it on signing in.', 'info').waitFor({ state: 'visible', timeout: 30_000 });

      await bob.signIn();
      await bob.openDirect();
      assert.equal(await bob.seen('the release is tagged v1.4.0'), 1);
      await bob.vscode.screenshot('offline-message-delivered');
      // A later message arrives after anything late: the note still shows once.
      await alice.send('And the notes are on the wiki.');
      await bob.seen('the notes are on the wiki');
      assert.equal(await bob.message('the release is tagged v1.4.0').count(), 1);
    }));

  it('(5) bob blocks alice: her message is refused, and his people view marks her blocked', async () =>
    bob.vscode.step('blocking', async () => {
      await bob.vscode.runCommand('Parley: Block User…');
      await bob.vscode.answer('alice', /Block whom\?/);
      await bob.vscode.toast('Parley: blocked alice.').waitFor({ state: 'visible', timeout: 30_000 });

      // Whatever fails here, bob unblocks alice again, so that the scenarios after this one start as they expect.
      try {
        await alice.openDirect();
        await alice.send('Are you ignoring me?');
        const refused = alice.notice('Your message could not be delivered as bob has blocked you.', 'error');
        await refused.waitFor({ state: 'visible', timeout: 30_000 });
        await alice.vscode.screenshot('message-refused');

        await bob.vscode.runCommand('Parley: Focus on People View');
        const row = bob.vscode.page.locator('.monaco-list-row[aria-label^="alice, blocked"]').first();
        await row.waitFor({ state: 'visible', timeout: 30_000 });
        assert.match(await row.innerText(), /alice\s*blocked/);
        await bob.vscode.screenshot('alice-blocked');
        assert.equal(await bob.message('Are you ignoring me?').count(), 0);
        // Blocked, alice is hidden from bob: she did not go offline, and bob's chat does not say she did.
        assert.equal(await bob.view.locator('.notice.presence', { hasText: 'alice went offline' }).count(), 0);
      } finally {
        await bob.vscode.chord(KEYS.unblock[0]);
        await bob.vscode.toast('Parley: unblocked alice.').waitFor({ state: 'visible', timeout: 30_000 });
      }
      await bob.vscode.page.locator('.monaco-list-row[aria-label^="alice, online"]').first().waitFor({ state: 'visible', timeout: 30_000 });
      await bob.openDirect();
    }));

  it('(6) the server restarts: both windows say they are reconnecting, recover, and lose or repeat nothing', async () =>
    alice.vscode.step('reconnect', async () => {
      await alice.openDirect();
      await server.stop();
      for (const person of [alice, bob]) {
        await person.vscode.waitForStatus(/Parley: reconnecting/);
        await person.view.locator('.banner.reconnecting').waitFor({ state: 'visible', timeout: 30_000 });
        await person.vscode.screenshot('reconnecting');
      }
      // Written while the server is down: it goes out once the connection is back.
      await alice.send('Written while the server was restarting.');
      await server.restart();
      for (const person of [alice, bob]) {
        await person.vscode.waitForStatus(new RegExp(`signed in as ${person.name}`), 60_000);
        await person.view.locator('.banner.reconnecting').waitFor({ state: 'hidden', timeout: 30_000 });
      }
      await bob.send('Back again, and I got your note.');
      for (const person of [alice, bob]) {
        assert.equal(await person.seen('Back again, and I got your note.'), 1, `${person.name}: bob's reply once`);
        assert.equal(await person.seen('Written while the server was restarting.'), 1, `${person.name}: alice's message once`);
        assert.equal(await person.seen('Did the nightly build pass?'), 1, `${person.name}: history once`);
        assert.equal(await person.seen('the release is tagged v1.4.0'), 1, `${person.name}: the offline note once`);
      }
      await alice.vscode.screenshot('recovered');
      await bob.vscode.screenshot('recovered');
    }));

  it('(7) a private chat between the windows goes over the direct channel and says so', async () =>
    alice.vscode.step('private', async () => {
      await alice.vscode.chord(KEYS.private[0]);
      const header = alice.view.locator('.conversation-header.private.direct', { hasText: 'Private chat with bob' });
      await header.waitFor({ state: 'visible', timeout: 30_000 });
      const toast = bob.vscode.toast('alice opened a private chat with you');
      await toast.waitFor({ state: 'visible', timeout: 30_000 });
      await toast.locator('.monaco-button', { hasText: 'Open' }).first().click();
      await bob.view.locator('.switcher-button[data-current="private:alice"]').waitFor({ state: 'visible', timeout: 30_000 });
      await bob.view.locator('.switcher-button').click();
      await bob.view
        .locator('.switcher-list .conversation.current.private.direct[data-id="private:alice"] .tag.direct')
        .waitFor({ state: 'visible', timeout: 30_000 });
      await bob.view.locator('.switcher-filter').press('Escape');

      await alice.send('Just between us: the demo password is on the sticky note.');
      const received = bob.message('the demo password is on the sticky note').first();
      assert.equal(await bob.seen('the demo password is on the sticky note'), 1);
      await received.locator('.tag.private .codicon-lock').waitFor({ state: 'visible' });
      await bob.send('Got it, I will keep it off the server.');
      const reply = alice.message('I will keep it off the server').first();
      assert.equal(await alice.seen('I will keep it off the server'), 1);
      await reply.locator('.tag.private .codicon-lock').waitFor({ state: 'visible' });
      await alice.vscode.screenshot('private-chat');
      await bob.vscode.screenshot('private-chat');
      // Not in the stored direct conversation: it went peer to peer.
      await bob.openDirect();
      await bob.seen('Back again, and I got your note.');
      assert.equal(await bob.message('the demo password is on the sticky note').count(), 0);
    }));

  it('(8) the composer: a sentence that starts with a command name is a message; commands start with "/"', async () =>
    alice.vscode.step('composer', async () => {
      await alice.openDirect();
      await alice.send('logout after the demo, back at three');
      assert.equal(await bob.seen('logout after the demo, back at three'), 1);
      await alice.send('message me when the build is green');
      assert.equal(await bob.seen('message me when the build is green'), 1);
      await alice.send('//shrug');
      const shrug = bob.view.locator('.message .body', { hasText: /^\s*\/shrug\s*$/ }).first();
      await shrug.waitFor({ state: 'visible', timeout: 30_000 });
      await alice.vscode.waitForStatus(/signed in as alice/);

      // Completion offers the commands after "/", from the command table.
      const input = alice.view.locator('textarea');
      await input.fill('/who');
      const offered = alice.view.locator('.completions');
      await offered.locator('li', { hasText: '/wholast <minutes>' }).waitFor({ state: 'visible', timeout: 30_000 });
      assert.equal(await offered.locator('li').count(), 2);
      assert.match(await offered.innerText(), /\/whoelse[\s\S]*\/wholast <minutes>/);
      const placeholder = await input.evaluate((el) => (el as { placeholder: string }).placeholder);
      assert.equal(placeholder, 'Message bob — / for commands');
      await alice.vscode.screenshot('composer-completion');
      await input.press('Tab');
      await input.press('Enter');
      await alice.notice(/Online now: .*\bbob\b/, 'info').waitFor({ state: 'visible', timeout: 30_000 });

      await alice.send('/logout');
      await alice.vscode.waitForStatus(/Parley: offline/);
      await bob.notice('alice went offline', 'presence').waitFor({ state: 'visible', timeout: 30_000 });
      await alice.signIn();
      await alice.openDirect();
    }));

  it('(10) #general while bob is away: the unread line, the badges and the switcher; reading in one window clears the other', async () =>
    bob.vscode.step('channel-away', async () => {
      // Both in the channel that every user is a member of.
      await alice.open(GENERAL);
      await bob.open(GENERAL);
      await alice.send('Who is around for the release today?');
      await bob.send('Here, on the changelog.');
      for (const person of [alice, bob]) assert.equal(await person.seen('Here, on the changelog.'), 1, `${person.name} sees bob's reply`);

      // Bob goes elsewhere and signs out; alice writes to the channel meanwhile, once to him by name.
      await bob.openDirect();
      await bob.vscode.runCommand('Parley: Sign Out');
      await bob.vscode.waitForStatus(/Parley: offline/);
      const away = [
        'The release train leaves at three.',
        'Staging is frozen from now on.',
        '@bob could you look over the changelog before then?',
        'Thanks, everyone.',
      ];
      for (const text of away) {
        await alice.send(text);
        assert.equal(await alice.seen(text), 1);
      }

      // Back: the status bar, the badge and the switcher say what waits, and where.
      await bob.signIn();
      await bob.vscode.waitForStatus(/signed in as bob · \d+ online · 4 unread/);
      await bob.waitForBadge('4');
      await bob.vscode.toast('You were mentioned once while away, in #general.').waitFor({ state: 'visible', timeout: 30_000 });
      await bob.expectFirstInSwitcher(GENERAL, 4, 1, 'channel-switcher-dark');

      // A second window of bob's, on another conversation, counts the same.
      const second = new Person('bob', 'alice', await bob.vscode.openWindow('second'));
      try {
        await second.signIn();
        await second.openDirect();
        await second.vscode.waitForStatus(/signed in as bob · \d+ online · 4 unread/);
        await second.waitForBadge('4');

        // Bob reads #general in the first window: the line stands above the first message he missed, and both
        // windows' badges, status bars and switcher buttons clear.
        await bob.expectUnreadLine(GENERAL, 'The release train leaves at three.', 'unread-line-dark');
        const placeholder = await bob.view.locator('textarea').evaluate((el) => (el as { placeholder: string }).placeholder);
        assert.equal(placeholder, 'Message #general — / for commands');
        for (const window of [bob, second]) await window.expectAllRead();
      } finally {
        await second.vscode.close();
      }

      // The same in alice's light window, this time while she is signed in but on another conversation.
      await alice.openDirect();
      await bob.open(GENERAL);
      await bob.send('Changelog looks good to me.');
      await bob.send('@alice ship it when you are ready.');
      await bob.seen('ship it when you are ready.');
      await alice.vscode.waitForStatus(/signed in as alice · \d+ online · 2 unread/);
      await alice.waitForBadge('2');
      await alice.expectFirstInSwitcher(GENERAL, 2, 1, 'channel-switcher-light');
      await alice.expectUnreadLine(GENERAL, 'Changelog looks good to me.', 'unread-line-light');
      await alice.expectAllRead();

      await bob.openDirect();
      await alice.openDirect();
    }));
});
