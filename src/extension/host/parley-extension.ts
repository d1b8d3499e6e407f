import { join } from 'node:path';
import * as vscode from 'vscode';
import type { HostAction } from '../../view-protocol';
import { Attention } from '../core/attention';
import { ChatSession } from '../core/chat-session';
import type { StateSnapshot } from '../core/chat-state';
import { EDITOR_COMMANDS, type EditorCommand } from '../core/command-ids';
import { LocalServer, shutdown, type ServerFactory } from '../core/local-server';
import type { Notifier } from '../core/notifications';
import type { Auth } from '../core/sign-in';
import { vscodeAuth } from './auth';
import { ChatCommands, usernameOf } from './chat-commands';
import { ChatViews } from './chat-views';
import { ConversationCommands } from './conversation-commands';
import { LocalServerUi } from './local-server-ui';
import { vscodeNotifier } from './notifier';
import { PeopleTree } from './people-tree';
import { personItem, pickUser } from './pickers';
import { registerCommand, type CommandHandler } from './register-command';
import { alertSessionEvents } from './session-alerts';
import { clientOptions, peerOptions } from './settings';
import { ShareLinks } from './share-links';
import { StatusBar } from './status-bar';
import { followUserActivity } from './user-activity';

/** What activate() returns: enough for a test running inside VS Code to see what the user would. */
export interface ParleyTestApi {
  snapshot(): StateSnapshot;
  views(): ReturnType<ChatViews['describe']>;
  localServer(): { running: boolean; url: string | undefined; joinAddresses: string[] };
  notifications(): readonly string[];
  statusBar(): { text: string; tooltip: string };
  /** Follows a link from a message as a click in the chat view does. */
  openLink(href: string): Promise<void>;
}

/**
 * The extension: the session and every piece of VS Code UI around it, put together and its commands registered.
 * Created by the first view shown or command run after activation (src/extension/extension.ts), which also
 * registers the views and hands them to `views` and `people`; disposed on deactivate.
 */
export class ParleyExtension implements vscode.Disposable {
  readonly session: ChatSession;
  readonly views: ChatViews;
  readonly people: PeopleTree;
  private readonly log: vscode.LogOutputChannel;
  private readonly auth: Auth;
  private readonly local: LocalServer;
  private readonly localUi: LocalServerUi;
  private readonly share: ShareLinks;
  private readonly notifier: Notifier;
  private readonly status: StatusBar;
  private readonly attention: Attention;
  private readonly disposables: vscode.Disposable[] = [];

  /** The user is back (e.g. the people view was shown): see Attention. */
  userActive(): void {
    this.attention.back();
  }

  constructor(context: vscode.ExtensionContext) {
    const log = vscode.window.createOutputChannel('Parley', { log: true });
    this.log = log;
    const session = new ChatSession({ private: () => peerOptions(log), client: () => clientOptions(log) });
    this.session = session;
    this.auth = vscodeAuth(context.secrets, session, log);
    // Back at the editor after the server's idle sign-out: signed in again with the stored token, asking nothing.
    this.attention = new Attention(session, (who) => this.auth.signIn({ ...who, interactive: false }));
    // The server bundle is loaded only when a local server is started (see local-server.ts for why in-process).
    const serverBundle = join(context.extensionPath, 'dist', 'extension-server.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a runtime path, on purpose not bundled into extension.js
    this.local = new LocalServer(() => (require(serverBundle) as { createParleyServer: ServerFactory }).createParleyServer);

    const reveal = (conversation?: string, focusComposer = false): Promise<void> => this.views.reveal(conversation, focusComposer);
    this.share = new ShareLinks(session, () => this.ensureSignedIn(), reveal, log);
    this.views = new ChatViews(context.extensionUri, session, {
      openLink: (href) => void this.share.openLink(href),
      action: (action) => void this.runAction(action),
      signOut: () => void vscode.commands.executeCommand(EDITOR_COMMANDS.signOut.id),
      log: (text) => log.warn(text),
      userActive: () => this.attention.back(),
    });
    this.localUi = new LocalServerUi(this.local, this.auth, session, reveal, log, context.globalStorageUri.fsPath);
    this.people = new PeopleTree(session);
    this.notifier = vscodeNotifier(
      session,
      (conversation) => this.views.reveal(conversation, true),
      (t) => log.warn(t),
    );
    this.status = new StatusBar(session.state);
    alertSessionEvents(session, reveal, log);

    this.disposables.push(
      this.views,
      this.people,
      followUserActivity(this.attention),
      this.attention,
      this.notifier,
      this.auth,
      this.status,
      this.localUi,
      log,
    );
    this.registerCommands();
  }

  /** Connects at start only when the settings say so (parley.autoConnect) and a session token (or an old password) is stored. */
  autoConnect(): void {
    const config = vscode.workspace.getConfiguration('parley');
    if (!config.get<boolean>('autoConnect', false)) return;
    const { url, username } = this.auth.config();
    if (!url || !username) return;
    setTimeout(() => void this.auth.signIn({ interactive: false }), 0);
  }

  testApi(): ParleyTestApi {
    return {
      snapshot: () => this.session.state.snapshot(),
      views: () => this.views.describe(),
      localServer: () => ({ running: this.local.running, url: this.local.localUrl, joinAddresses: this.local.joinAddresses() }),
      notifications: () => this.notifier.shown,
      statusBar: () => this.status.describe(),
      openLink: (href) => this.share.openLink(href),
    };
  }

  shutdown(): Promise<void> {
    return shutdown(this.session, this.local, (text) => this.log.error(text));
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
    // Already done by deactivate (shutdown), which VS Code calls first; here too for a dispose without it.
    this.session.dispose();
  }

  private registerCommands(): void {
    const conversations = new ConversationCommands({
      session: this.session,
      ensureSignedIn: () => this.ensureSignedIn(),
      reveal: (conversation, focusComposer) => this.views.reveal(conversation, focusComposer),
      log: this.log,
    });
    const editor: Record<EditorCommand, CommandHandler> = {
      connect: (args?: { url?: string; username?: string; password?: string }) =>
        args?.url
          ? this.auth.signIn({ ...args, interactive: args.password === undefined })
          : this.auth.signIn({ interactive: true, askAddress: true }),
      signOut: async () => {
        await this.auth.signOut();
        return true;
      },
      startLocalServer: (args?: { username?: string; password?: string }) => this.localUi.start(args),
      stopLocalServer: () => this.localUi.stop(),
      copyJoinAddress: () => this.localUi.copyJoinAddress(),
      addLocalUser: (args?: { username?: string; password?: string }) => this.localUi.addUser(args),
      shareSelection: (target?: string) => this.share.shareSelection(target),
      showLog: async () => this.log.show(),
      openChat: async (conversation?: string) => {
        await this.views.reveal(conversation);
        return true;
      },
      openChatInEditor: async () => {
        this.views.openPanel();
        return true;
      },
      refreshPeople: async () => {
        if (!(await this.ensureSignedIn())) return undefined;
        await this.session.refreshPeople();
        return this.session.state.people();
      },
      goToConversation: (conversation?: string) => conversations.goTo(conversation),
      joinChannel: (name?: string) => conversations.join(name),
      createChannel: (args?: { name?: string; private?: boolean }) => conversations.create(args),
      messagePerson: async (who?: unknown) => {
        const username =
          usernameOf(who) ?? (await pickUser({ title: 'Message whom?', items: this.session.state.people().map(personItem), typed: true }));
        if (!username) return undefined;
        const conversation = this.session.state.openDirect(username);
        await this.views.reveal(conversation, true);
        return conversation;
      },
    };
    const chat = new ChatCommands({
      session: this.session,
      ensureSignedIn: () => this.ensureSignedIn(),
      onScreen: () => this.views.onScreen(),
      reveal: (conversation, focusComposer) => this.views.reveal(conversation, focusComposer),
      message: (username) => void vscode.commands.executeCommand(EDITOR_COMMANDS.messagePerson.id, username),
      log: this.log,
    });
    const commands = [
      ...(Object.keys(editor) as EditorCommand[]).map((key) => ({ ...EDITOR_COMMANDS[key], handler: editor[key] })),
      ...chat.handlers(),
    ];
    for (const { id, title, handler } of commands) this.disposables.push(registerCommand(id, title, handler, this.log));
  }

  /** Signs in with the stored settings and password if needed (asking for what is missing). */
  private async ensureSignedIn(): Promise<boolean> {
    const phase = this.session.state.connection.phase;
    if (phase === 'signed-in' || phase === 'reconnecting') return true;
    if (phase === 'connecting') return false;
    return (await this.auth.signIn({ interactive: true })) !== undefined;
  }

  /** The chat view's buttons (sign-in banner, connection problems). */
  private async runAction(action: HostAction): Promise<void> {
    switch (action) {
      case 'connect':
      case 'reconnect':
        await vscode.commands.executeCommand(EDITOR_COMMANDS.connect.id);
        return;
      case 'startLocalServer':
        await vscode.commands.executeCommand(EDITOR_COMMANDS.startLocalServer.id);
        return;
      case 'signOut':
        await vscode.commands.executeCommand(EDITOR_COMMANDS.signOut.id);
        return;
      case 'showLog':
        this.log.show();
        return;
    }
  }
}
