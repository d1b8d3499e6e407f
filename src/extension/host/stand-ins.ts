import * as vscode from 'vscode';
import type { Person } from '../core/chat-state';
import { VIEW_IDS } from '../core/view-ids';
import type { ParleyExtension, ParleyTestApi } from './parley-extension';
import type { PeopleTree } from './people-tree';

// What activation registers in the extension's place, so that activating loads none of it: each stand-in hands
// over to the extension, which `extension()` loads the first time one of them is used.

/**
 * The commands until the extension is loaded. The first one run loads it, which must dispose these first
 * (it registers the same ids), and then runs the extension's own command with the same arguments.
 */
export function commandStandIns(ids: readonly string[], extension: () => unknown): vscode.Disposable[] {
  return ids.map((id) =>
    vscode.commands.registerCommand(id, (...args: unknown[]) => {
      extension();
      return vscode.commands.executeCommand(id, ...args);
    }),
  );
}

/** The chat view, the chat panels VS Code restores and the people view, for as long as the extension runs. */
export function viewStandIns(extension: () => ParleyExtension): vscode.Disposable[] {
  const changed = new vscode.EventEmitter<Person | undefined>();
  let relay: vscode.Disposable | undefined;
  // Relayed from the first time VS Code asks for the children: a change before that needs none, as VS Code asks
  // afresh when it shows the view.
  const people = (): PeopleTree => {
    const tree = extension().people;
    relay ??= tree.onDidChangeTreeData((person) => changed.fire(person));
    return tree;
  };
  const tree: vscode.TreeDataProvider<Person> = {
    onDidChangeTreeData: changed.event,
    getChildren: (person) => people().getChildren(person),
    getTreeItem: (person) => people().getTreeItem(person),
  };
  const treeView = vscode.window.createTreeView(VIEW_IDS.people, { treeDataProvider: tree });
  return [
    vscode.window.registerWebviewViewProvider(VIEW_IDS.chat, { resolveWebviewView: (view) => extension().views.resolveWebviewView(view) }),
    vscode.window.registerWebviewPanelSerializer(VIEW_IDS.panel, {
      deserializeWebviewPanel: (panel) => extension().views.deserializeWebviewPanel(panel),
    }),
    treeView,
    treeView.onDidChangeVisibility(({ visible }) => visible && extension().userActive()),
    changed,
    { dispose: () => relay?.dispose() },
  ];
}

/** The test API (what activate() returns), whose every call loads the extension first. */
export function testApiStandIn(api: () => ParleyTestApi): ParleyTestApi {
  return {
    snapshot: () => api().snapshot(),
    views: () => api().views(),
    localServer: () => api().localServer(),
    notifications: () => api().notifications(),
    statusBar: () => api().statusBar(),
    openLink: (href) => api().openLink(href),
  };
}
