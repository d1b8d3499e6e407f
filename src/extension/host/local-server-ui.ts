import { join } from 'node:path';
import { userInfo } from 'node:os';
import * as vscode from 'vscode';
import { isUsername } from '../../protocol/limits';
import type { ChatSession } from '../core/chat-session';
import { EDITOR_COMMANDS } from '../core/command-ids';
import { LocalServerError, type LocalServer } from '../core/local-server';
import type { Auth } from '../core/sign-in';
import type { Logger } from '../local-server-bundle';
import { errorMessage } from '../../protocol/errors';

/**
 * The local server's UI: Start Local Server (and signing in to it, creating its first user), Stop Local Server,
 * Add User to Local Server and Copy Join Address, and the "Parley Server" output channel for its log.
 */
export class LocalServerUi implements vscode.Disposable {
  private serverLogChannel: vscode.LogOutputChannel | undefined;

  constructor(
    private readonly local: LocalServer,
    private readonly auth: Auth,
    private readonly session: ChatSession,
    private readonly reveal: (conversation?: string, focusComposer?: boolean) => Promise<void>,
    private readonly log: vscode.LogOutputChannel,
    private readonly storagePath: string,
  ) {}

  dispose(): void {
    this.serverLogChannel?.dispose();
  }

  private logger(): Logger {
    this.serverLogChannel ??= vscode.window.createOutputChannel('Parley Server', { log: true });
    const channel = this.serverLogChannel;
    const text = (message: string, fields?: Record<string, unknown>): string =>
      fields && Object.keys(fields).length ? `${message} ${JSON.stringify(fields)}` : message;
    return {
      debug: (m, f) => channel.debug(text(m, f)),
      info: (m, f) => channel.info(text(m, f)),
      warn: (m, f) => channel.warn(text(m, f)),
      error: (m, f) => channel.error(text(m, f)),
    };
  }

  async start(args?: {
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
      const dataDir = join(this.storagePath, 'server');
      try {
        await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: 'Parley: starting the local server…' },
          () => this.local.start({ port, allowNetwork, dataDir, log: this.logger() }),
        );
      } catch (err) {
        const message = errorMessage(err);
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
    if (username !== undefined) await this.reveal();
    const joinAddresses = this.local.joinAddresses();
    void vscode.window
      .showInformationMessage(
        `Parley: the local server is running at ${joinAddresses[0]}.${this.local.allowsNetwork ? '' : ' Only this machine can join (see parley.localServer.allowNetwork).'}`,
        'Copy Join Address',
        'Open Chat',
      )
      .then((choice) => {
        if (choice === 'Copy Join Address') void vscode.commands.executeCommand(EDITOR_COMMANDS.copyJoinAddress.id);
        else if (choice === 'Open Chat') void this.reveal(undefined, true);
      });
    return { url, joinAddresses, ...(username !== undefined && { username }) };
  }

  /** Signs in to the local server: as a new first user when it has none, else as the configured or chosen one. */
  private async signInToLocal(url: string, args?: { username?: string; password?: string }): Promise<string | undefined> {
    const users = await this.local.users();
    if (users.length === 0 || (args?.username && !users.includes(args.username))) {
      const created = await this.addUser(args, users.length === 0);
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

  async addUser(
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

  async stop(): Promise<boolean> {
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

  async copyJoinAddress(): Promise<string | undefined> {
    if (!this.local.running) {
      const url = this.auth.config().url;
      const choice = await vscode.window.showInformationMessage(
        'Parley: no local server is running.' + (url ? ` Copy the address you use (${url}) instead?` : ''),
        ...(url ? ['Copy It'] : []),
        'Start Local Server',
      );
      if (choice === 'Start Local Server') await vscode.commands.executeCommand(EDITOR_COMMANDS.startLocalServer.id);
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
}
