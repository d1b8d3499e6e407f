import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { formatBroadcast, formatWhoElse, formatWhoLast } from '../../client/sentences';
import type { ChatMessage } from '../../protocol';
import { isUsername } from '../../protocol/limits';
import type { Logger } from '../local-server-bundle';
import { EVERYONE, classifyLink, directId, privateId, type HostAction, type ShownMessage, type TimelineItem } from '../../view-protocol';
import type { ClientOptions } from '../../client/parley-client';
import type { PrivateChannelsOptions } from '../../client/private-channels';
import { ChatSession } from '../core/chat-session';
import { privateChatOptions } from '../core/private-settings';
import { trustedCaOptions } from '../core/tls-settings';
import type { Person, StateSnapshot } from '../core/chat-state';
import { COMMANDS, VIEW_IDS, type CommandKey } from '../core/command-ids';
import { asRequestError } from '../core/errors';
import { LocalServer, LocalServerError, type ServerFactory } from '../core/local-server';
import type { Notifier } from '../core/notifications';
import type { Auth } from '../core/sign-in';
import { shareBody, shareTooLong } from '../core/share';
import { shutdown } from '../core/shutdown';
import { statusText } from '../core/status';
import { toastSafe } from '../core/toast-text';
import { vscodeAuth } from './auth';
import { ChatViews } from './chat-views';
import { vscodeNotifier } from './notifier';
import { PeopleTree } from './people-tree';

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

type PersonArg = Person | { username: string } | string | undefined;

function usernameOf(arg: PersonArg): string | undefined {
  if (typeof arg === 'string') return arg;
  return arg?.username;
}

/** The extension: the session and every piece of VS Code UI around it. Created by activate(), disposed on deactivate. */
export class ParleyExtension implements vscode.Disposable {
  readonly session = new ChatSession({ private: () => this.privateChatOptions(), client: () => this.clientOptions() });
  private readonly log: vscode.LogOutputChannel;
  private serverLogChannel: vscode.LogOutputChannel | undefined;
  private readonly auth: Auth;
  private readonly local: LocalServer;
  private readonly views: ChatViews;
  private readonly notifier: Notifier;
  private readonly status: vscode.StatusBarItem;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Parley', { log: true });
    this.auth = vscodeAuth(context.secrets, this.session, this.log);
    // The server bundle is loaded only when a local server is started (see local-server.ts for why in-process).
    const serverBundle = join(context.extensionPath, 'dist', 'extension-server.js');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a runtime path, on purpose not bundled into extension.js
    this.local = new LocalServer(() => (require(serverBundle) as { createParleyServer: ServerFactory }).createParleyServer);

    this.views = new ChatViews(context.extensionUri, this.session, {
      openLink: (href) => void this.openLink(href),
      action: (action) => void this.runAction(action),
      signOut: () => void vscode.commands.executeCommand(COMMANDS.signOut.id),
      log: (text) => this.log.warn(text),
    });
    const tree = new PeopleTree(this.session);
    const treeView = vscode.window.createTreeView(VIEW_IDS.people, { treeDataProvider: tree });
    this.notifier = vscodeNotifier(
      this.session,
      (conversation) => this.views.reveal(conversation, true),
      (t) => this.log.warn(t),
    );

    this.status = vscode.window.createStatusBarItem('parley.status', vscode.StatusBarAlignment.Left, 100);
    this.status.name = 'Parley';
    const updateStatus = (): void => this.updateStatus();
    const state = this.session.state;
    for (const event of ['connection', 'conversations', 'people'] as const) state.on(event, updateStatus);
    const onConnection = (): void => void this.onConnection();
    state.on('connection', onConnection);
    // The walkthrough's last step ("say hello") completes with the first message sent.
    let saidHello = false;
    const onItems = (_conversation: string, items: TimelineItem[], live: boolean): void => {
      if (saidHello || !live || !items.some((i) => i.kind === 'message' && i.message.from === state.me)) return;
      saidHello = true;
      void vscode.commands.executeCommand('setContext', 'parley.saidHello', true);
    };
    state.on('items', onItems);
    this.updateStatus();
    this.status.show();

    // The password the server refused is forgotten by this.auth. Texts from a server or a peer go through toastSafe.
    this.session.on('problem', (error) => {
      void vscode.window.showErrorMessage(`Parley: could not sign in again: ${toastSafe(error.message)}`, 'Connect…').then((choice) => {
        if (choice) void vscode.commands.executeCommand(COMMANDS.connect.id);
      });
    });
    this.session.on('privateFailed', (failure) => {
      this.log.warn(`Private chat with ${failure.username}: ${failure.message}`);
      const actions = failure.offerServer ? ['Send via Server'] : [];
      void vscode.window.showWarningMessage(`Parley: ${toastSafe(failure.message)}`, ...actions).then(async (choice) => {
        if (choice !== 'Send via Server') return;
        // The user's explicit choice: an ordinary direct message, stored on the server.
        const conversation = this.session.state.openDirect(failure.username);
        try {
          if (failure.body !== undefined) await this.session.sendTo(conversation, failure.body);
          await this.views.reveal(conversation, true);
        } catch (err) {
          void vscode.window.showErrorMessage(`Parley: not sent: ${toastSafe(asRequestError(err).message)}`);
        }
      });
    });
    this.session.on('privateOpened', ({ username, conversation, direction }) => {
      this.log.info(`Private chat with ${username} is open (${direction}).`);
      if (direction !== 'incoming' || this.session.state.isViewing(conversation)) return;
      void vscode.window
        .showInformationMessage(
          `Parley: ${toastSafe(username)} opened a private chat with you (direct, encrypted, not stored on the server).`,
          'Open',
        )
        .then((choice) => {
          if (choice === 'Open') void this.views.reveal(conversation, true);
        });
    });
    this.session.on('privateRefused', (text) => this.log.warn(text));
    this.session.on('ended', (message) => {
      this.log.info(`Session ended: ${message}`);
    });

    this.disposables.push(
      vscode.window.registerWebviewViewProvider(VIEW_IDS.chat, this.views),
      vscode.window.registerWebviewPanelSerializer(VIEW_IDS.panel, this.views),
      this.views,
      tree,
      treeView,
      this.notifier,
      this.auth,
      this.status,
      this.log,
      {
        dispose: () => {
          for (const event of ['connection', 'conversations', 'people'] as const) state.off(event, updateStatus);
          state.off('connection', onConnection);
          state.off('items', onItems);
        },
      },
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

  /** The CA to trust from the user's settings (never a workspace's), read at each sign-in. */
  private clientOptions(): ClientOptions {
    const setting = vscode.workspace.getConfiguration('parley').inspect<string>('tls.caFile');
    const { options, problems } = trustedCaOptions(setting, (path) => readFileSync(path, 'utf8'));
    for (const problem of problems) {
      this.log.warn(problem);
      void vscode.window.showWarningMessage(`Parley: ${problem}`);
    }
    return options;
  }

  /** The peer listener's interface and advertised address from the settings, read at each sign-in. */
  private privateChatOptions(): PrivateChannelsOptions {
    const config = vscode.workspace.getConfiguration('parley.privateChat');
    const { options, problems } = privateChatOptions({
      listenHost: config.get<string>('listenHost', ''),
      advertiseHost: config.get<string>('advertiseHost', ''),
    });
    for (const problem of problems) {
      this.log.warn(problem);
      void vscode.window.showWarningMessage(`Parley: ${problem}`);
    }
    return options;
  }

  testApi(): ParleyTestApi {
    return {
      snapshot: () => this.session.state.snapshot(),
      views: () => this.views.describe(),
      localServer: () => ({ running: this.local.running, url: this.local.localUrl, joinAddresses: this.local.joinAddresses() }),
      notifications: () => this.notifier.shown,
      statusBar: () => ({ text: this.status.text, tooltip: String(this.status.tooltip ?? '') }),
      openLink: (href) => this.openLink(href),
    };
  }

  shutdown(): Promise<void> {
    return shutdown(this.session, this.local, (text) => this.log.error(text));
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
    this.serverLogChannel?.dispose();
    // Already done by deactivate (shutdown), which VS Code calls first; here too for a dispose without it.
    this.session.dispose();
  }

  // ---- commands ----

  private registerCommands(): void {
    const handlers: Record<CommandKey, (...args: never[]) => Promise<unknown>> = {
      connect: (args?: { url?: string; username?: string; password?: string }) =>
        args?.url
          ? this.auth.signIn({ ...args, interactive: args.password === undefined })
          : this.auth.signIn({ interactive: true, askAddress: true }),
      signOut: () => this.signOut(),
      whoElse: () => this.whoElse(),
      whoLast: (minutes?: number) => this.whoLast(minutes),
      broadcast: (text?: string) => this.broadcast(text),
      broadcastToUsers: (users?: string[], text?: string) => this.broadcastToUsers(users, text),
      sendMessage: (to?: PersonArg, text?: string) => this.sendMessage(usernameOf(to), text),
      block: (who?: PersonArg) => this.block(usernameOf(who)),
      unblock: (who?: PersonArg) => this.unblock(usernameOf(who)),
      startLocalServer: (args?: { username?: string; password?: string }) => this.startLocalServer(args),
      stopLocalServer: () => this.stopLocalServer(),
      copyJoinAddress: () => this.copyJoinAddress(),
      addLocalUser: (args?: { username?: string; password?: string }) => this.addLocalUser(args),
      shareSelection: (target?: string) => this.shareSelection(target),
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
      messagePerson: async (who?: PersonArg) => {
        const username = usernameOf(who) ?? (await this.pickUser('Message whom?'));
        if (!username) return undefined;
        const conversation = this.session.state.openDirect(username);
        await this.views.reveal(conversation, true);
        return conversation;
      },
      startPrivateChat: (who?: PersonArg) => this.startPrivateChat(usernameOf(who)),
      stopPrivateChat: (who?: PersonArg) => this.stopPrivateChat(usernameOf(who)),
      blockPerson: (who?: PersonArg) => this.block(usernameOf(who)),
      unblockPerson: (who?: PersonArg) => this.unblock(usernameOf(who)),
    };
    for (const [key, handler] of Object.entries(handlers) as [CommandKey, (...args: unknown[]) => Promise<unknown>][]) {
      this.disposables.push(
        vscode.commands.registerCommand(COMMANDS[key].id, async (...args: unknown[]) => {
          try {
            return await handler(...args);
          } catch (err) {
            const message = err instanceof LocalServerError ? err.message : asRequestError(err).message;
            this.log.error(`${COMMANDS[key].title}: ${message}`);
            void vscode.window.showErrorMessage(`Parley: ${toastSafe(message)}`);
            return undefined;
          }
        }),
      );
    }
  }

  /** Signs in with the stored settings and password if needed (asking for what is missing). */
  private async ensureSignedIn(): Promise<boolean> {
    const phase = this.session.state.connection.phase;
    if (phase === 'signed-in' || phase === 'reconnecting') return true;
    if (phase === 'connecting') return false;
    return (await this.auth.signIn({ interactive: true })) !== undefined;
  }

  private async signOut(): Promise<boolean> {
    await this.auth.signOut();
    return true;
  }

  private async whoElse(): Promise<string[] | undefined> {
    if (!(await this.ensureSignedIn())) return undefined;
    const users = await this.session.whoelse();
    this.showUsers(formatWhoElse(users), users);
    return users;
  }

  private async whoLast(minutes?: number): Promise<string[] | undefined> {
    if (!(await this.ensureSignedIn())) return undefined;
    if (minutes === undefined) {
      const answer = await vscode.window.showInputBox({
        title: 'Parley: Who Was Online Recently',
        prompt: 'How many minutes back? (1-59)',
        value: '10',
        validateInput: (v) => (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 59 ? undefined : 'A whole number from 1 to 59'),
      });
      if (answer === undefined) return undefined;
      minutes = Number(answer);
    }
    const users = await this.session.wholast(minutes);
    this.showUsers(formatWhoLast(users, minutes), users);
    return users;
  }

  /** Shows users in a quick pick (not awaited: the command returns its result at once); picking one opens a conversation. */
  private showUsers(title: string, users: string[]): void {
    const people = new Map(this.session.state.people().map((p) => [p.username, p]));
    const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
    pick.title = `Parley: ${title}`;
    pick.placeholder = users.length ? 'Pick someone to message them' : 'Nobody';
    pick.items = users.map((u) => ({
      label: u,
      description: people.get(u)?.online ? 'online' : 'recently online',
      iconPath: new vscode.ThemeIcon(people.get(u)?.online ? 'circle-filled' : 'circle-outline'),
    }));
    pick.onDidAccept(() => {
      const chosen = pick.selectedItems[0]?.label;
      pick.hide();
      if (chosen) void vscode.commands.executeCommand(COMMANDS.messagePerson.id, chosen);
    });
    pick.onDidHide(() => pick.dispose());
    pick.show();
  }

  private async broadcast(text?: string): Promise<{ id: number; delivered: number; skipped: number } | undefined> {
    if (!(await this.ensureSignedIn())) return undefined;
    text ??= await vscode.window.showInputBox({
      title: 'Parley: Broadcast Message',
      prompt: 'Sent to everyone online',
      ignoreFocusOut: true,
    });
    if (!text?.trim()) return undefined;
    const result = await this.session.broadcast(text);
    void vscode.window.showInformationMessage(`Parley: ${formatBroadcast(result, false)}`);
    return { id: result.message.id, delivered: result.delivered, skipped: result.skipped };
  }

  private async broadcastToUsers(users?: string[], text?: string): Promise<{ id: number; delivered: number; skipped: number } | undefined> {
    if (!(await this.ensureSignedIn())) return undefined;
    if (!users) {
      const picked = await vscode.window.showQuickPick(
        this.session.state.people().map((p) => ({ label: p.username, description: p.online ? 'online' : 'offline' })),
        { title: 'Parley: Broadcast to Users', placeHolder: 'Pick the recipients', canPickMany: true, ignoreFocusOut: true },
      );
      if (!picked?.length) return undefined;
      users = picked.map((p) => p.label);
    }
    text ??= await vscode.window.showInputBox({
      title: 'Parley: Broadcast to Users',
      prompt: `Sent to ${users.join(', ')}`,
      ignoreFocusOut: true,
    });
    if (!text?.trim()) return undefined;
    const result = await this.session.broadcast(text, users);
    void vscode.window.showInformationMessage(`Parley: ${formatBroadcast(result, true)}`);
    return { id: result.message.id, delivered: result.delivered, skipped: result.skipped };
  }

  private async sendMessage(to?: string, text?: string): Promise<ChatMessage | undefined> {
    if (!(await this.ensureSignedIn())) return undefined;
    to ??= await this.pickUser('Send a message to whom?');
    if (!to) return undefined;
    text ??= await vscode.window.showInputBox({ title: `Parley: Message ${to}`, prompt: 'Enter sends', ignoreFocusOut: true });
    if (!text?.trim()) return undefined;
    const { message, online } = await this.session.sendDirect(to, text);
    if (!online) void vscode.window.showInformationMessage(`Parley: sent; ${to} is offline and will get it on signing in.`);
    return message;
  }

  /** Opens a private chat with someone online (picked when not given) and shows it; failures come as `privateFailed`. */
  private async startPrivateChat(username?: string): Promise<string | undefined> {
    if (!(await this.ensureSignedIn())) return undefined;
    if (!username) {
      const online = this.session.state.people().filter((p) => p.online && !p.blocked);
      if (online.length === 0) {
        void vscode.window.showInformationMessage('Parley: nobody else is online; a private chat needs the other person online.');
        return undefined;
      }
      username = (
        await vscode.window.showQuickPick(
          online.map((p) => ({
            label: p.username,
            description: this.session.privateStateOf(p.username) === 'direct' ? 'private chat open' : 'online',
          })),
          { title: 'Parley: Start Private Chat', placeHolder: 'Direct and encrypted; messages are not stored on the server' },
        )
      )?.label;
      if (!username) return undefined;
    }
    const conversation = privateId(username);
    this.session.state.openPrivate(username);
    void this.views.reveal(conversation, true);
    try {
      await this.session.startPrivate(username);
    } catch {
      // Told in the conversation and by a notification that offers the server instead (privateFailed).
      return undefined;
    }
    return conversation;
  }

  private async stopPrivateChat(username?: string): Promise<string | undefined> {
    if (!username) {
      const open = this.session.state.privateChats();
      if (open.length === 0) {
        void vscode.window.showInformationMessage('Parley: no private chat is open.');
        return undefined;
      }
      username = open.length === 1 ? open[0] : await vscode.window.showQuickPick(open, { title: 'Parley: Stop Private Chat with…' });
      if (!username) return undefined;
    }
    this.session.stopPrivate(username);
    return username;
  }

  private async block(username?: string): Promise<string | undefined> {
    if (!(await this.ensureSignedIn())) return undefined;
    username ??= await this.pickUser('Block whom? (no messages either way, no presence)', (p) => !p.blocked);
    if (!username) return undefined;
    await this.session.block(username);
    void vscode.window.showInformationMessage(`Parley: blocked ${username}.`);
    return username;
  }

  private async unblock(username?: string): Promise<string | undefined> {
    if (!(await this.ensureSignedIn())) return undefined;
    if (!username) {
      const blocked = await this.session.blocklist();
      if (!blocked.length) {
        void vscode.window.showInformationMessage('Parley: you have not blocked anyone.');
        return undefined;
      }
      username = (await vscode.window.showQuickPick(blocked, { title: 'Parley: Unblock User' })) ?? undefined;
    }
    if (!username) return undefined;
    await this.session.unblock(username);
    void vscode.window.showInformationMessage(`Parley: unblocked ${username}.`);
    return username;
  }

  /** A quick pick of known people that also takes a typed username. */
  private pickUser(title: string, filter: (p: Person) => boolean = () => true): Promise<string | undefined> {
    return new Promise((resolve) => {
      const pick = vscode.window.createQuickPick<vscode.QuickPickItem>();
      const known = this.session.state.people().filter(filter);
      const base = known.map((p) => ({ label: p.username, description: p.online ? 'online' : p.blocked ? 'blocked' : 'offline' }));
      pick.title = `Parley: ${title}`;
      pick.placeholder = 'A username';
      pick.items = base;
      pick.ignoreFocusOut = true;
      pick.onDidChangeValue((value) => {
        const typed = value.trim();
        const exists = base.some((i) => i.label === typed);
        pick.items = typed && !exists && isUsername(typed) ? [{ label: typed, description: 'username' }, ...base] : base;
      });
      let done = false;
      pick.onDidAccept(() => {
        done = true;
        resolve(pick.selectedItems[0]?.label ?? (pick.value.trim() || undefined));
        pick.hide();
      });
      pick.onDidHide(() => {
        if (!done) resolve(undefined);
        pick.dispose();
      });
      pick.show();
    });
  }

  // ---- local server ----

  private serverLogger(): Logger {
    this.serverLogChannel ??= vscode.window.createOutputChannel('Parley Server', { log: true });
    const channel = this.serverLogChannel;
    const text = (message: string, fields?: Record<string, unknown>): string =>
      fields && Object.keys(fields).length ? `${message} ${JSON.stringify(fields)}` : message;
    return {
      info: (m, f) => channel.info(text(m, f)),
      warn: (m, f) => channel.warn(text(m, f)),
      error: (m, f) => channel.error(text(m, f)),
    };
  }

  private async startLocalServer(args?: {
    username?: string;
    password?: string;
  }): Promise<{ url: string; joinAddresses: string[]; username?: string } | undefined> {
    const config = vscode.workspace.getConfiguration('parley');
    if (!this.local.running) {
      const port = config.get<number>('localServer.port', 4000);
      const allowNetwork = config.get<boolean>('localServer.allowNetwork', false);
      if (allowNetwork) {
        const choice = await vscode.window.showWarningMessage(
          'Start the Parley server on the network?',
          {
            modal: true,
            detail: `parley.localServer.allowNetwork is on: anyone who can reach this machine on port ${port} can try to sign in, and messages travel unencrypted (plain HTTP). Use it on a network you trust.`,
          },
          'Start on the Network',
        );
        if (choice !== 'Start on the Network') return undefined;
      }
      const dataDir = join(this.context.globalStorageUri.fsPath, 'server');
      try {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'Parley: starting the local server…' },
          () => this.local.start({ port, allowNetwork, dataDir, log: this.serverLogger() }),
        );
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.log.error(message);
        const actions = err instanceof LocalServerError && err.code === 'PORT_IN_USE' ? ['Change Port', 'Connect to It'] : ['Show Log'];
        void vscode.window.showErrorMessage(`Parley: ${message}`, ...actions).then((choice) => {
          if (choice === 'Change Port') void vscode.commands.executeCommand('workbench.action.openSettings', 'parley.localServer.port');
          else if (choice === 'Connect to It') void this.auth.signIn({ url: `http://127.0.0.1:${port}`, interactive: true });
          else if (choice === 'Show Log') this.serverLogChannel?.show();
        });
        return undefined;
      }
      await vscode.commands.executeCommand('setContext', 'parley.localServerRunning', true);
      this.log.info(`Local server started: ${this.local.joinAddresses().join(', ')} (data in ${dataDir}).`);
    }
    const url = this.local.localUrl!;
    let username: string | undefined;
    const connected = this.session.state.connection;
    const signedInHere = connected.phase !== 'signed-out' && connected.url === url;
    if (!signedInHere && connected.phase === 'signed-out') username = await this.signInToLocal(url, args);
    // Signed in from the palette, the person would otherwise not see where the chat is.
    if (username !== undefined) await this.views.reveal();
    const joinAddresses = this.local.joinAddresses();
    void vscode.window
      .showInformationMessage(
        `Parley: the local server is running at ${joinAddresses[0]}.${this.local.allowsNetwork ? '' : ' Only this machine can join (see parley.localServer.allowNetwork).'}`,
        'Copy Join Address',
        'Open Chat',
      )
      .then((choice) => {
        if (choice === 'Copy Join Address') void vscode.commands.executeCommand(COMMANDS.copyJoinAddress.id);
        else if (choice === 'Open Chat') void this.views.reveal(undefined, true);
      });
    return { url, joinAddresses, ...(username !== undefined && { username }) };
  }

  /** Signs in to the local server: as a new first user when it has none, else as the configured or chosen one. */
  private async signInToLocal(url: string, args?: { username?: string; password?: string }): Promise<string | undefined> {
    const users = await this.local.users();
    if (users.length === 0 || (args?.username && !users.includes(args.username))) {
      const created = await this.addLocalUser(args, users.length === 0);
      if (!created) return undefined;
      return this.auth.signIn({ url, username: created.username, password: created.password, interactive: false });
    }
    const configured = this.auth.config().username;
    let username = args?.username ?? (users.includes(configured) ? configured : users.length === 1 ? users[0] : undefined);
    if (!username) {
      username = await vscode.window.showQuickPick(users, { title: 'Parley: sign in to the local server as…', ignoreFocusOut: true });
      if (!username) return undefined;
    }
    return this.auth.signIn({
      url,
      username,
      interactive: args?.password === undefined,
      ...(args?.password !== undefined && { password: args.password }),
    });
  }

  private async addLocalUser(
    args?: { username?: string; password?: string },
    first = false,
  ): Promise<{ username: string; password: string } | undefined> {
    if (!this.local.running) {
      void vscode.window.showErrorMessage('Parley: start the local server first (Parley: Start Local Server).');
      return undefined;
    }
    const existing = new Set(await this.local.users());
    const suggested = (this.auth.config().username || userInfo().username).replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 32);
    const username =
      args?.username ??
      (
        await vscode.window.showInputBox({
          title: first ? 'Parley: create the first user of your server' : 'Parley: add a user to the local server',
          prompt: 'Username (letters, digits, ".", "_" and "-")',
          value: first && !existing.has(suggested) ? suggested : '',
          ignoreFocusOut: true,
          validateInput: (v) =>
            !isUsername(v.trim())
              ? 'Letters, digits, ".", "_" and "-", at most 32'
              : existing.has(v.trim())
                ? 'That user exists'
                : undefined,
        })
      )?.trim();
    if (!username) return undefined;
    let password = args?.password;
    if (password === undefined) {
      password = await vscode.window.showInputBox({
        title: `Parley: password for ${username}`,
        prompt: 'At least 8 characters',
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.length >= 8 ? undefined : 'At least 8 characters'),
      });
      if (!password) return undefined;
      const confirm = await vscode.window.showInputBox({
        title: `Parley: password for ${username}`,
        prompt: 'Once more',
        password: true,
        ignoreFocusOut: true,
      });
      if (confirm !== password) {
        void vscode.window.showErrorMessage('Parley: the passwords differ; no user was added.');
        return undefined;
      }
    }
    await this.local.addUser(username, password);
    this.log.info(`Added user ${username} to the local server.`);
    return { username, password };
  }

  private async stopLocalServer(): Promise<boolean> {
    if (!this.local.running) return false;
    const url = this.local.localUrl;
    if (url && this.session.state.connection.url === url && this.session.state.connection.phase !== 'signed-out')
      await this.session.signOut();
    await this.local.stop();
    await vscode.commands.executeCommand('setContext', 'parley.localServerRunning', false);
    this.log.info('Local server stopped.');
    void vscode.window.showInformationMessage('Parley: the local server stopped.');
    return true;
  }

  private async copyJoinAddress(): Promise<string | undefined> {
    if (!this.local.running) {
      const url = this.auth.config().url;
      const choice = await vscode.window.showInformationMessage(
        'Parley: no local server is running.' + (url ? ` Copy the address you use (${url}) instead?` : ''),
        ...(url ? ['Copy It'] : []),
        'Start Local Server',
      );
      if (choice === 'Start Local Server') await vscode.commands.executeCommand(COMMANDS.startLocalServer.id);
      if (choice !== 'Copy It' || !url) return undefined;
      await vscode.env.clipboard.writeText(url);
      return url;
    }
    const addresses = this.local.joinAddresses();
    const address =
      addresses.length > 1
        ? await vscode.window.showQuickPick(addresses, { title: 'Parley: which address do your teammates reach?' })
        : addresses[0];
    if (!address) return undefined;
    await vscode.env.clipboard.writeText(address);
    void vscode.window.showInformationMessage(
      this.local.allowsNetwork
        ? `Parley: copied ${address}. Teammates run "Parley: Connect to Server…" with it.`
        : `Parley: copied ${address}. It works on this machine only; turn on parley.localServer.allowNetwork to let teammates join.`,
    );
    return address;
  }

  // ---- sharing and links ----

  private async shareSelection(target?: string): Promise<ShownMessage | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Parley: open a file and select some code to share.');
      return undefined;
    }
    if (!(await this.ensureSignedIn())) return undefined;
    const { document, selection } = editor;
    const range = selection.isEmpty ? document.lineAt(selection.active.line).range : selection;
    const endLine = range.end.character === 0 && range.end.line > range.start.line ? range.end.line - 1 : range.end.line;
    const inWorkspace = vscode.workspace.getWorkspaceFolder(document.uri) !== undefined;
    const path = inWorkspace ? vscode.workspace.asRelativePath(document.uri, false) : (document.uri.path.split('/').pop() ?? 'untitled');
    const codeText = document.getText(new vscode.Range(range.start.line, 0, endLine, document.lineAt(endLine).text.length));
    if (!codeText.trim()) {
      void vscode.window.showInformationMessage('Parley: select some code to share (the selection is empty).');
      return undefined;
    }
    const body = shareBody({
      path: path.replace(/\\/g, '/'),
      startLine: range.start.line + 1,
      endLine: endLine + 1,
      languageId: document.languageId,
      code: codeText,
    });
    const tooLong = shareTooLong(body);
    if (tooLong) {
      void vscode.window.showErrorMessage(`Parley: ${tooLong}`);
      return undefined;
    }
    if (!target) {
      const items = [
        { label: 'Everyone', description: 'broadcast to everyone online', id: EVERYONE },
        ...this.session.state
          .people()
          .filter((p) => !p.blocked)
          .map((p) => ({ label: p.username, description: p.online ? 'online' : 'offline', id: directId(p.username) })),
      ];
      target = (await vscode.window.showQuickPick(items, { title: 'Parley: share the selection with…' }))?.id;
      if (!target) return undefined;
    }
    const message = await this.session.sendTo(target, body);
    await this.views.reveal(target);
    return message;
  }

  private async openLink(href: string): Promise<void> {
    const target = classifyLink(href);
    if (target.kind === 'external') {
      await vscode.env.openExternal(vscode.Uri.parse(target.url, true));
    } else if (target.kind === 'location') {
      const uri = await this.findInWorkspace(target.path);
      if (!uri) {
        void vscode.window.showWarningMessage(`Parley: ${target.path} is not in this workspace.`);
        return;
      }
      const document = await vscode.workspace.openTextDocument(uri);
      const last = Math.min(target.endLine, document.lineCount) - 1;
      const range = new vscode.Range(Math.min(target.line - 1, last), 0, last, document.lineAt(Math.max(0, last)).text.length);
      await vscode.window.showTextDocument(document, { selection: range, preview: true });
    } else {
      this.log.warn(`Did not open a link from a message: ${target.reason} (${href.slice(0, 200)})`);
    }
  }

  private async findInWorkspace(path: string): Promise<vscode.Uri | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const candidates: vscode.Uri[] = [];
    for (const folder of folders) {
      candidates.push(vscode.Uri.joinPath(folder.uri, ...path.split('/')));
      // asRelativePath names the folder first in a multi-root workspace.
      const [first, ...rest] = path.split('/');
      if (first === folder.name && rest.length) candidates.push(vscode.Uri.joinPath(folder.uri, ...rest));
    }
    for (const uri of candidates) {
      try {
        const stat = await vscode.workspace.fs.stat(uri);
        if (stat.type & vscode.FileType.File) return uri;
      } catch {
        // not there
      }
    }
    return undefined;
  }

  private async runAction(action: HostAction): Promise<void> {
    switch (action) {
      case 'connect':
      case 'reconnect':
        await vscode.commands.executeCommand(COMMANDS.connect.id);
        return;
      case 'startLocalServer':
        await vscode.commands.executeCommand(COMMANDS.startLocalServer.id);
        return;
      case 'signOut':
        await vscode.commands.executeCommand(COMMANDS.signOut.id);
        return;
      case 'showLog':
        this.log.show();
        return;
    }
  }

  // ---- status ----

  private updateStatus(): void {
    const { text, tooltip } = statusText(this.session.state);
    this.status.text = text;
    this.status.tooltip = tooltip;
    const phase = this.session.state.connection.phase;
    this.status.command = phase === 'signed-out' || phase === 'private-only' ? COMMANDS.connect.id : COMMANDS.openChat.id;
    this.status.accessibilityInformation = { label: tooltip };
  }

  private lastPhase: string | undefined;

  private async onConnection(): Promise<void> {
    const phase = this.session.state.connection.phase;
    if (phase === this.lastPhase) return;
    this.lastPhase = phase;
    await vscode.commands.executeCommand('setContext', 'parley.signedIn', phase === 'signed-in' || phase === 'reconnecting');
    // Signed out by the server with private chats still open: they can still be stopped, and Sign Out ends them.
    await vscode.commands.executeCommand('setContext', 'parley.privateOnly', phase === 'private-only');
  }
}
