import * as vscode from 'vscode';
import { isUsername } from '../../protocol/limits';
import type { Person } from '../core/chat-state';

/** The boxes and quick picks the palette's commands ask with. Each resolves with undefined when the user gives up. */

export interface UserItem {
  label: string;
  description: string;
}

export function personItem(person: Person): UserItem {
  return { label: person.username, description: person.online ? 'online' : person.blocked ? 'blocked' : 'offline' };
}

/** A quick pick of users; with `typed`, a valid username typed that is not in the list can be picked as well. */
export function pickUser(options: {
  title: string;
  items: readonly UserItem[];
  typed: boolean;
  placeholder?: string;
}): Promise<string | undefined> {
  return new Promise((resolve) => {
    const pick = vscode.window.createQuickPick<UserItem>();
    const base = [...options.items];
    pick.title = `Parley: ${options.title}`;
    pick.placeholder = options.placeholder ?? 'A username';
    pick.items = base;
    pick.ignoreFocusOut = true;
    if (options.typed) {
      pick.onDidChangeValue((value) => {
        const typed = value.trim();
        const exists = base.some((i) => i.label === typed);
        pick.items = typed && !exists && isUsername(typed) ? [{ label: typed, description: 'username' }, ...base] : base;
      });
    }
    let done = false;
    pick.onDidAccept(() => {
      done = true;
      resolve(pick.selectedItems[0]?.label ?? ((options.typed && pick.value.trim()) || undefined));
      pick.hide();
    });
    pick.onDidHide(() => {
      if (!done) resolve(undefined);
      pick.dispose();
    });
    pick.show();
  });
}

export async function pickUsers(title: string, items: readonly UserItem[]): Promise<string[] | undefined> {
  const picked = await vscode.window.showQuickPick(items, {
    title: `Parley: ${title}`,
    placeHolder: 'Pick the recipients',
    canPickMany: true,
    ignoreFocusOut: true,
  });
  return picked?.length ? picked.map((p) => p.label) : undefined;
}

export async function askMinutes(title: string): Promise<number | undefined> {
  const answer = await vscode.window.showInputBox({
    title: `Parley: ${title}`,
    prompt: 'How many minutes back? (1-59)',
    value: '10',
    validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 59 ? undefined : 'A whole number from 1 to 59'),
  });
  return answer === undefined ? undefined : Number(answer);
}

export function askText(title: string, prompt: string): Promise<string | undefined> {
  return Promise.resolve(vscode.window.showInputBox({ title: `Parley: ${title}`, prompt, ignoreFocusOut: true }));
}

/** Shows users in a quick pick without waiting for it (a command returns its result at once); `open` runs on the one picked. */
export function showUsers(title: string, users: readonly string[], people: readonly Person[], open: (username: string) => void): void {
  const known = new Map(people.map((p) => [p.username, p]));
  const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
  pick.title = `Parley: ${title}`;
  pick.placeholder = users.length ? 'Pick someone to message them' : 'Nobody';
  pick.items = users.map((u) => ({
    label: u,
    description: known.get(u)?.online ? 'online' : 'recently online',
    iconPath: new vscode.ThemeIcon(known.get(u)?.online ? 'circle-filled' : 'circle-outline'),
  }));
  pick.onDidAccept(() => {
    const chosen = pick.selectedItems[0]?.label;
    pick.hide();
    if (chosen) open(chosen);
  });
  pick.onDidHide(() => pick.dispose());
  pick.show();
}
