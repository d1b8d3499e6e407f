import * as vscode from 'vscode';
import { usernameSchema } from '../../protocol';
import type { ChatSession } from '../core/chat-session';
import { describeSignInError, passwordPrompt, type SignInProblem } from '../core/errors';
import { normalizeUrl } from '../core/urls';

export interface SignInRequest {
  url?: string;
  username?: string;
  password?: string;
  /** Ask for what is missing (and the address, when `askAddress`). Without it, only stored values are used. */
  interactive: boolean;
  askAddress?: boolean;
}

/** Settings and prompts for signing in; the password lives in SecretStorage until sign-out or a failed login. */
export class Auth {
  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly session: ChatSession,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  private secretKey(url: string, username: string): string {
    return `parley.password:${url}:${username}`;
  }

  config(): { url: string; username: string } {
    const config = vscode.workspace.getConfiguration('parley');
    return { url: config.get<string>('serverUrl', '').trim(), username: config.get<string>('username', '').trim() };
  }

  async forgetPassword(url: string, username: string): Promise<void> {
    await this.secrets.delete(this.secretKey(url, username));
  }

  async storePassword(url: string, username: string, password: string): Promise<void> {
    await this.secrets.store(this.secretKey(url, username), password);
  }

  /** Signs in; resolves with the username, or undefined when the user gave up or it failed (after saying why). */
  async signIn(request: SignInRequest): Promise<string | undefined> {
    const saved = this.config();
    let url = request.url ?? saved.url;
    if (request.interactive && (request.askAddress || !url)) {
      const answer = await vscode.window.showInputBox({
        title: 'Parley: Connect to Server',
        prompt: 'The address of the Parley server (a teammate\'s "Copy Join Address" gives it)',
        value: url || 'http://127.0.0.1:4000',
        ignoreFocusOut: true,
        validateInput: (value) => (normalizeUrl(value) ? undefined : 'An address like http://192.168.1.20:4000'),
      });
      if (answer === undefined) return undefined;
      url = answer;
    }
    const normalized = normalizeUrl(url);
    if (!normalized) {
      if (request.interactive)
        void vscode.window.showErrorMessage(`Parley: "${url}" is not a server address (e.g. http://127.0.0.1:4000).`);
      return undefined;
    }
    url = normalized;

    let username = request.username ?? saved.username;
    if (request.interactive && (request.askAddress || !username)) {
      const answer = await vscode.window.showInputBox({
        title: 'Parley: Sign In',
        prompt: `Your username on ${url}`,
        value: username,
        ignoreFocusOut: true,
        validateInput: (value) => (usernameSchema.safeParse(value.trim()).success ? undefined : 'Letters, digits, ".", "_" and "-"'),
      });
      if (answer === undefined) return undefined;
      username = answer.trim();
    }
    if (!username) return undefined;

    let password = request.password ?? (await this.secrets.get(this.secretKey(url, username)));
    let previous: SignInProblem | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!password) {
        if (!request.interactive) return undefined;
        password = await vscode.window.showInputBox({
          title: 'Parley: Sign In',
          prompt: passwordPrompt(username, url, previous),
          password: true,
          ignoreFocusOut: true,
        });
        if (!password) return undefined;
      }
      try {
        // No progress notification: the workbench keeps one on screen for at least 800 ms, so a fast failure
        // showed "connecting…" next to its own error. The status item and the chat view say "connecting…".
        await this.session.connect(url, username, password);
        await this.storePassword(url, username, password);
        await this.saveSettings(url, username);
        this.log.info(`Signed in as ${username} on ${url}.`);
        return username;
      } catch (err) {
        const problem = describeSignInError(err, url, username);
        this.log.warn(`Sign-in failed (${problem.code}): ${problem.message}`);
        if (problem.forgetPassword) await this.forgetPassword(url, username);
        if (problem.askAgain && request.interactive && request.password === undefined) {
          previous = problem;
          password = undefined;
          continue;
        }
        await this.explain(problem.code, problem.message);
        return undefined;
      }
    }
    return undefined;
  }

  private async explain(code: string, message: string): Promise<void> {
    const actions = code === 'UNREACHABLE' ? ['Connect to Another Server…', 'Start Local Server'] : [];
    const choice = await vscode.window.showErrorMessage(`Parley: ${message}`, ...actions);
    if (choice === 'Connect to Another Server…') await vscode.commands.executeCommand('parley.connect');
    else if (choice === 'Start Local Server') await vscode.commands.executeCommand('parley.startLocalServer');
  }

  private async saveSettings(url: string, username: string): Promise<void> {
    const config = vscode.workspace.getConfiguration('parley');
    try {
      if (config.get<string>('serverUrl') !== url) await config.update('serverUrl', url, vscode.ConfigurationTarget.Global);
      if (config.get<string>('username') !== username) await config.update('username', username, vscode.ConfigurationTarget.Global);
    } catch (err) {
      this.log.warn(`Could not save the Parley settings: ${String(err)}`);
    }
  }
}
