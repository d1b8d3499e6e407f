import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CONTRIBUTED, personContext } from '../src/extension/core/command-ids';
import { VIEW_IDS } from '../src/extension/core/view-ids';

interface Manifest {
  main: string;
  publisher: string;
  engines: { vscode: string };
  activationEvents: string[];
  scripts: Record<string, string>;
  contributes: {
    commands: { command: string; title: string; category: string }[];
    viewsContainers: { activitybar: { id: string; icon: string }[] };
    views: Record<string, { id: string; type?: string }[]>;
    menus: Record<string, { command: string; when?: string }[]>;
    configuration: { properties: Record<string, { type: string; default: unknown }> };
    walkthroughs: { steps: { title: string; media: { markdown: string }; completionEvents: string[] }[] }[];
  };
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;

/** The palette commands issue 3 names, spelled as it spells them (plus the private chat's two). */
const ISSUE_COMMAND_TITLES = [
  'Connect to Server…',
  'Sign Out',
  'Who Else Is Online',
  'Who Was Online Recently…',
  'Broadcast Message…',
  'Broadcast to Users…',
  'Send Message to User…',
  'Block User…',
  'Unblock User…',
  'Start Local Server',
  'Stop Local Server',
  'Copy Join Address',
  'Share Selection to Chat',
  'Show Log',
  'Open Chat',
  'Start Private Chat…',
  'Stop Private Chat',
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

describe('extension manifest (package.json)', () => {
  test('contributes exactly the commands the extension registers, all under the "Parley" category', () => {
    const contributed = manifest.contributes.commands.map((c) => [c.command, c.title]).sort();
    const registered = CONTRIBUTED.map((c) => [c.id, c.title]).sort();
    assert.deepEqual(contributed, registered);
    for (const c of manifest.contributes.commands) assert.equal(c.category, 'Parley');
    const hidden = (manifest.contributes.menus.commandPalette ?? []).filter((m) => m.when === 'false').map((m) => m.command);
    assert.deepEqual(
      hidden.sort(),
      CONTRIBUTED.filter((c) => c.contextOnly)
        .map((c) => c.id)
        .sort(),
    );
    for (const menu of Object.values(manifest.contributes.menus)) {
      for (const item of menu)
        assert.ok(
          registered.some(([id]) => id === item.command),
          `menu names ${item.command}`,
        );
    }
  });

  test('every command the issue names is in the palette with its exact title, under "Parley"', () => {
    const hidden = new Set((manifest.contributes.menus.commandPalette ?? []).filter((m) => m.when === 'false').map((m) => m.command));
    for (const title of ISSUE_COMMAND_TITLES) {
      const found = manifest.contributes.commands.filter((c) => c.title === title);
      assert.equal(found.length, 1, `one command titled "${title}"`);
      assert.equal(found[0]!.category, 'Parley', title);
      assert.ok(!hidden.has(found[0]!.command), `"${title}" is not hidden from the palette`);
    }
  });

  test('the webviews keep their state with getState/setState: retainContextWhenHidden appears nowhere in the extension', () => {
    const files = filesUnder('src/extension').filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 10, 'the extension’s sources are found');
    // Comments may name it (to say why it is not used); code may not.
    const code = (file: string): string =>
      readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
    for (const file of files) assert.doesNotMatch(code(file), /retainContextWhenHidden/, file);
  });

  test('private chat: start and stop in the palette and in the people view’s context menu, by the tree’s context values', () => {
    const palette = manifest.contributes.menus.commandPalette ?? [];
    const context = manifest.contributes.menus['view/item/context'] ?? [];
    const whenFor = (menu: { command: string; when?: string }[], command: string): string | undefined =>
      menu.find((m) => m.command === command)?.when;
    for (const id of ['parley.startPrivateChat', 'parley.stopPrivateChat']) {
      assert.notEqual(whenFor(palette, id), 'false', `${id} is in the palette`);
      assert.match(whenFor(context, id) ?? '', /view == parley\.people/);
    }
    // The when clauses match what personContext gives.
    const matches = (when: string, value: string): boolean => {
      const regex = /viewItem =~ \/(.*)\/$/.exec(when);
      if (regex) return new RegExp(regex[1]!).test(value);
      return new RegExp(`viewItem == ${value}$`).test(when);
    };
    const start = whenFor(context, 'parley.startPrivateChat')!;
    const stop = whenFor(context, 'parley.stopPrivateChat')!;
    const block = whenFor(context, 'parley.blockPerson')!;
    const unblock = whenFor(context, 'parley.unblockPerson')!;
    const person = { username: 'bob', online: true, blocked: false };
    const online = personContext(person, 'closed');
    const chatting = personContext(person, 'direct');
    const offline = personContext({ ...person, online: false }, 'closed');
    const blocked = personContext({ ...person, blocked: true }, 'closed');
    assert.deepEqual([online, chatting, offline, blocked], ['person-online', 'person-online-private', 'person', 'person-blocked']);
    assert.deepEqual(
      [matches(start, online), matches(start, chatting), matches(start, offline), matches(start, blocked)],
      [true, false, false, false],
    );
    assert.deepEqual([matches(stop, online), matches(stop, chatting), matches(stop, blocked)], [false, true, false]);
    assert.deepEqual(
      [online, chatting, offline, blocked].map((v) => matches(block, v)),
      [true, true, true, false],
    );
    assert.deepEqual(
      [online, chatting, offline, blocked].map((v) => matches(unblock, v)),
      [false, false, false, true],
    );
  });

  test('activates on its views and commands only, never on "*" or at startup', () => {
    for (const event of manifest.activationEvents) {
      assert.ok(/^(onView|onWebviewPanel|onCommand):parley\./.test(event), event);
    }
    assert.ok(manifest.activationEvents.includes(`onWebviewPanel:${VIEW_IDS.panel}`));
  });

  test('an activity-bar container with the chat webview and the people tree, and an SVG icon', () => {
    const container = manifest.contributes.viewsContainers.activitybar.find((c) => c.id === VIEW_IDS.container)!;
    assert.ok(container.icon.endsWith('.svg') && existsSync(container.icon));
    const views = manifest.contributes.views[VIEW_IDS.container]!;
    assert.deepEqual(
      views.map((v) => [v.id, v.type ?? 'tree']),
      [
        [VIEW_IDS.chat, 'webview'],
        [VIEW_IDS.people, 'tree'],
      ],
    );
  });

  test('settings, a three-step walkthrough, and what packaging needs', () => {
    const props = manifest.contributes.configuration.properties;
    assert.deepEqual(Object.keys(props).sort(), [
      'parley.autoConnect',
      'parley.localServer.allowNetwork',
      'parley.localServer.port',
      'parley.notifications.enabled',
      'parley.privateChat.advertiseHost',
      'parley.privateChat.listenHost',
      'parley.serverUrl',
      'parley.tls.caFile',
      'parley.username',
    ]);
    assert.equal(props['parley.localServer.port']!.default, 4000);
    // A workspace must not be able to name a CA to trust (a cloned repository would plant one).
    assert.ok(['machine', 'application'].includes(String((props['parley.tls.caFile'] as { scope?: string }).scope)));
    assert.equal(props['parley.localServer.allowNetwork']!.default, false);
    // The extension's README (shown in the Extensions view) lists every setting.
    const readme = readFileSync('media/extension-readme.md', 'utf8');
    assert.deepEqual(
      Object.keys(props).filter((key) => !readme.includes(`| \`${key}\``)),
      [],
      'settings missing from the table in media/extension-readme.md',
    );
    const steps = manifest.contributes.walkthroughs[0]!.steps;
    assert.deepEqual(
      steps.map((s) => s.title),
      ['Start or join a server', 'Sign in', 'Say hello'],
    );
    for (const step of steps) {
      assert.ok(existsSync(step.media.markdown), step.media.markdown);
      assert.ok(step.completionEvents.length > 0);
    }
    assert.equal(manifest.main, 'dist/extension.js');
    assert.equal(manifest.publisher, 'parley');
    assert.match(manifest.engines.vscode, /^\^1\.\d+\.\d+$/);
    assert.match(manifest.scripts.package!, /package-extension/);
    const ignore = readFileSync('.vscodeignore', 'utf8');
    assert.match(ignore, /^\*\*$/m, 'everything is left out unless named');
    assert.doesNotMatch(ignore, /\.map|src\/|test\//);
  });
});
