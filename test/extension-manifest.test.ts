import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { COMMANDS, CONTEXT_ONLY, VIEW_IDS } from '../src/extension/core/command-ids';

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
    walkthroughs: { steps: { media: { markdown: string }; completionEvents: string[] }[] }[];
  };
}

const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as Manifest;

describe('extension manifest (package.json)', () => {
  test('contributes exactly the commands the extension registers, all under the "Parley" category', () => {
    const contributed = manifest.contributes.commands.map((c) => [c.command, c.title]).sort();
    const registered = Object.values(COMMANDS)
      .map((c) => [c.id, c.title])
      .sort();
    assert.deepEqual(contributed, registered);
    for (const c of manifest.contributes.commands) assert.equal(c.category, 'Parley');
    const hidden = (manifest.contributes.menus.commandPalette ?? []).filter((m) => m.when === 'false').map((m) => m.command);
    assert.deepEqual(hidden.sort(), CONTEXT_ONLY.map((k) => COMMANDS[k].id).sort());
    for (const menu of Object.values(manifest.contributes.menus)) {
      for (const item of menu)
        assert.ok(
          registered.some(([id]) => id === item.command),
          `menu names ${item.command}`,
        );
    }
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
      'parley.serverUrl',
      'parley.username',
    ]);
    assert.equal(props['parley.localServer.port']!.default, 4000);
    assert.equal(props['parley.localServer.allowNetwork']!.default, false);
    const steps = manifest.contributes.walkthroughs[0]!.steps;
    assert.equal(steps.length, 3);
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
