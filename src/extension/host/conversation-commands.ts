import * as vscode from 'vscode';
import { errorMessage } from '../../protocol/errors';
import { isChannelName } from '../../protocol/limits';
import type { ChatSession } from '../core/chat-session';
import { conversationPicks, type ConversationPick } from '../core/conversation-picks';

/**
 * The palette's conversation commands: Go to Conversation… (a quick pick of channels, people and open private chats,
 * unread first, filtered by VS Code as the user types), Join Channel… and Create Channel…. Each opens the
 * conversation in the chat view and resolves with its id (undefined when the user gave up).
 */

export interface ConversationCommandsHost {
  readonly session: ChatSession;
  ensureSignedIn(): Promise<boolean>;
  reveal(conversation: string, focusComposer?: boolean): Promise<void>;
  log: vscode.LogOutputChannel;
}

const ICONS: Record<ConversationPick['kind'], string> = {
  everyone: 'broadcast',
  channel: 'organization',
  direct: 'person',
  private: 'lock',
};

export class ConversationCommands {
  constructor(private readonly host: ConversationCommandsHost) {}

  async goTo(conversation?: string): Promise<string | undefined> {
    if (!(await this.host.ensureSignedIn())) return undefined;
    const chosen = typeof conversation === 'string' ? conversation : await this.pickConversation();
    if (chosen) await this.host.reveal(chosen, true);
    return chosen;
  }

  async join(name?: string): Promise<string | undefined> {
    if (!(await this.host.ensureSignedIn())) return undefined;
    const channel = typeof name === 'string' ? channelName(name) : await this.pickChannel();
    if (!channel) return undefined;
    return this.open(`join #${channel}`, () => this.host.session.joinChannel(channel));
  }

  async create(args?: { name?: string; private?: boolean }): Promise<string | undefined> {
    if (!(await this.host.ensureSignedIn())) return undefined;
    const typed =
      args?.name ??
      (await vscode.window.showInputBox({
        title: 'Parley: Create Channel',
        prompt: 'The channel’s name: lowercase letters, digits and "-"',
        ignoreFocusOut: true,
        validateInput: (v) => (channelName(v) ? undefined : 'Lowercase letters, digits and "-", 1 to 32 of them'),
      }));
    const name = typed === undefined ? undefined : channelName(typed);
    if (!name) return undefined;
    const privateChannel = args?.private ?? (await this.askPrivate());
    if (privateChannel === undefined) return undefined;
    return this.open(`create #${name}`, () => this.host.session.createChannel(name, privateChannel));
  }

  private async open(what: string, run: () => Promise<string>): Promise<string | undefined> {
    try {
      const conversation = await run();
      await this.host.reveal(conversation, true);
      return conversation;
    } catch (err) {
      void vscode.window.showErrorMessage(`Parley: could not ${what}: ${errorMessage(err)}`);
      return undefined;
    }
  }

  private async pickConversation(): Promise<string | undefined> {
    const items = conversationPicks(this.host.session.state).map((p) => ({
      label: p.label,
      description: p.description,
      iconPath: new vscode.ThemeIcon(ICONS[p.kind]),
      conversation: p.conversation,
    }));
    const picked = await vscode.window.showQuickPick(items, {
      title: 'Parley: Go to Conversation',
      placeHolder: 'A channel, a person or a private chat',
      matchOnDescription: true,
    });
    return picked?.conversation;
  }

  /** The channels the user may join, or a name typed. */
  private pickChannel(): Promise<string | undefined> {
    return new Promise((resolve) => {
      const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
      pick.title = 'Parley: Join Channel';
      pick.placeholder = 'A channel, or a name to type';
      pick.busy = true;
      let listed: vscode.QuickPickItem[] = [];
      const show = (): void => {
        const typed = channelName(pick.value);
        const extra = typed && !listed.some((i) => i.label === `#${typed}`) ? [{ label: `#${typed}`, description: 'join by name' }] : [];
        pick.items = [...extra, ...listed];
      };
      this.host.session.listChannels().then(
        (channels) => {
          listed = channels
            .filter((c) => !c.member)
            .map((c) => ({ label: `#${c.name}`, description: [`${c.members} members`, c.topic].filter(Boolean).join(' · ') }));
          pick.busy = false;
          show();
        },
        (err: unknown) => {
          pick.busy = false;
          this.host.log.warn(`Could not list the channels: ${errorMessage(err)}`);
        },
      );
      pick.onDidChangeValue(show);
      let done = false;
      pick.onDidAccept(() => {
        done = true;
        resolve(channelName(pick.selectedItems[0]?.label ?? pick.value));
        pick.hide();
      });
      pick.onDidHide(() => {
        if (!done) resolve(undefined);
        pick.dispose();
      });
      pick.show();
    });
  }

  private async askPrivate(): Promise<boolean | undefined> {
    const picked = await vscode.window.showQuickPick(
      [
        { label: 'Public', description: 'anyone may find and join it', private: false },
        { label: 'Private', description: 'members add members; others cannot see it', private: true },
      ],
      { title: 'Parley: Create Channel', placeHolder: 'Who may see it?' },
    );
    return picked?.private;
  }
}

/** A channel's name as typed (with or without `#`), if it is one. */
function channelName(typed: string): string | undefined {
  const name = typed.trim().replace(/^#/, '');
  return isChannelName(name) ? name : undefined;
}
