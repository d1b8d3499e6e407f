import type { ParleyRequestError } from '../../client/parley-client';
import type { SignedOutEvent } from '../../protocol';
import type { ChatSession } from './chat-session';
import { describeSignInError, passwordPrompt, type SignInProblem } from './errors';
import { normalizeUrl } from './urls';

/**
 * Signing in, without VS Code: the server address and username come from the settings (or prompts), the
 * password from the secret store, where it stays until sign-out or a failed login. host/auth.ts gives it
 * VS Code's SecretStorage, settings and input boxes. The password is never logged.
 */

export interface SignInRequest {
  url?: string;
  username?: string;
  password?: string;
  /** Ask for what is missing (and the address, when `askAddress`). Without it, only stored values are used. */
  interactive: boolean;
  askAddress?: boolean;
}

/** The part of VS Code's SecretStorage used here. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** Settings and prompts. A prompt resolves with undefined when the user gives up. */
export interface SignInUi {
  settings(): { url: string; username: string };
  saveSettings(url: string, username: string): PromiseLike<void>;
  askAddress(current: string): PromiseLike<string | undefined>;
  askUsername(url: string, current: string): PromiseLike<string | undefined>;
  askPassword(prompt: string): PromiseLike<string | undefined>;
  /** Says what went wrong (a typed address that is not one, a failed sign-in), without waiting for the user. */
  explain(problem: { code: SignInProblem['code'] | 'BAD_ADDRESS'; message: string }): void;
}

export interface SignInLog {
  info(text: string): void;
  warn(text: string): void;
}

export class Auth {
  private readonly onProblem = (error: ParleyRequestError): void => void this.afterProblem(error);
  private readonly onSignedOut = (event: SignedOutEvent): void => void this.afterSignedOut(event);

  constructor(
    private readonly secrets: SecretStore,
    private readonly session: ChatSession,
    private readonly ui: SignInUi,
    private readonly log: SignInLog,
  ) {
    session.on('problem', this.onProblem);
    session.on('signedOut', this.onSignedOut);
  }

  private secretKey(url: string, username: string): string {
    return `parley.password:${url}:${username}`;
  }

  config(): { url: string; username: string } {
    return this.ui.settings();
  }

  async forgetPassword(url: string, username: string): Promise<void> {
    await this.secrets.delete(this.secretKey(url, username));
  }

  /** Signs in; resolves with the username, or undefined when the user gave up or it failed (after saying why). */
  async signIn(request: SignInRequest): Promise<string | undefined> {
    const saved = this.ui.settings();
    let url = request.url ?? saved.url;
    if (request.interactive && (request.askAddress || !url)) {
      const answer = await this.ui.askAddress(url);
      if (answer === undefined) return undefined;
      url = answer;
    }
    const normalized = normalizeUrl(url);
    if (!normalized) {
      if (request.interactive)
        this.ui.explain({ code: 'BAD_ADDRESS', message: `"${url}" is not a server address (e.g. http://127.0.0.1:4000).` });
      return undefined;
    }
    url = normalized;

    let username = request.username ?? saved.username;
    if (request.interactive && (request.askAddress || !username)) {
      const answer = await this.ui.askUsername(url, username);
      if (answer === undefined) return undefined;
      username = answer.trim();
    }
    if (!username) return undefined;

    let password = request.password ?? (await this.secrets.get(this.secretKey(url, username)));
    let previous: SignInProblem | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!password) {
        if (!request.interactive) return undefined;
        password = await this.ui.askPassword(passwordPrompt(username, url, previous));
        if (!password) return undefined;
      }
      try {
        await this.session.connect(url, username, password);
        await this.secrets.store(this.secretKey(url, username), password);
        await this.ui.saveSettings(url, username);
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
        this.ui.explain(problem);
        return undefined;
      }
    }
    return undefined;
  }

  /** Signs out and forgets the password: the next sign-in asks for it. */
  async signOut(): Promise<void> {
    const { url, username } = this.session.state.connection;
    await this.session.signOut();
    if (url && username) await this.forgetPassword(url, username);
    this.log.info('Signed out.');
  }

  /** Signing in again after a dropped connection failed: a password the server refused is forgotten. */
  private async afterProblem(error: ParleyRequestError): Promise<void> {
    const { url, username } = this.session.state.connection;
    if (!url || !username) return;
    if (describeSignInError(error, url, username).forgetPassword) await this.forgetPassword(url, username);
  }

  /** The stored password no longer signs in once it was changed, or the account removed. */
  private async afterSignedOut(event: SignedOutEvent): Promise<void> {
    if (event.reason !== 'password-changed' && event.reason !== 'account-removed') return;
    const { url, username } = this.session.state.connection;
    if (url && username) await this.forgetPassword(url, username);
  }

  dispose(): void {
    this.session.off('problem', this.onProblem);
    this.session.off('signedOut', this.onSignedOut);
  }
}
