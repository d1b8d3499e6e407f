import * as vscode from 'vscode';
import type { ChatSession } from '../core/chat-session';
import { describeLastSeen, presenceOf, type Person, type Presence } from '../core/chat-state';
import { EDITOR_COMMANDS, personContext } from '../core/command-ids';
import { directId } from '../../view-protocol';

/** Online (a green dot), idle (a yellow clock: there, but away) and offline (a hollow circle); their descriptions say it too. */
const PRESENCE_ICONS: Record<Presence, vscode.ThemeIcon> = {
  online: new vscode.ThemeIcon('circle-filled', new vscode.ThemeColor('charts.green')),
  idle: new vscode.ThemeIcon('clock', new vscode.ThemeColor('charts.yellow')),
  offline: new vscode.ThemeIcon('circle-outline'),
};

/** The people view: online first (active, then idle), then the rest by when they were last seen; blocked users marked. */
export class PeopleTree implements vscode.TreeDataProvider<Person>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Person | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly timer: NodeJS.Timeout;
  private readonly listener = (): void => this.changed.fire(undefined);

  constructor(private readonly session: ChatSession) {
    // Conversations too: a person's unread count is shown beside them.
    for (const event of ['people', 'connection', 'conversations'] as const) session.state.on(event, this.listener);
    // "last seen N min ago" ages by itself.
    this.timer = setInterval(this.listener, 60_000);
  }

  getChildren(element?: Person): Person[] {
    if (element) return [];
    // Empty while signed out, so that the view's welcome content (connect / start a server) shows.
    if (this.session.state.connection.phase === 'signed-out') return [];
    return this.session.state.people();
  }

  getTreeItem(person: Person): vscode.TreeItem {
    const item = new vscode.TreeItem(person.username, vscode.TreeItemCollapsibleState.None);
    const seen = describeLastSeen(person, Date.now());
    const secret = this.session.state.privateState(person.username);
    item.id = person.username;
    const unread = this.session.state.unread(directId(person.username));
    item.description = [
      unread > 0 ? `${unread} unread` : '',
      person.blocked ? 'blocked' : '',
      seen,
      secret === 'closed' ? '' : `private chat ${secret}`,
    ]
      .filter(Boolean)
      .join(' · ');
    item.tooltip = `${person.username}: ${item.description}`;
    item.iconPath = person.blocked
      ? new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('errorForeground'))
      : PRESENCE_ICONS[presenceOf(person)];
    item.contextValue = personContext(person, secret);
    item.accessibilityInformation = { label: `${person.username}, ${item.description}` };
    item.command = { command: EDITOR_COMMANDS.messagePerson.id, title: 'Message', arguments: [person] };
    return item;
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const event of ['people', 'connection', 'conversations'] as const) this.session.state.off(event, this.listener);
    this.changed.dispose();
  }
}
