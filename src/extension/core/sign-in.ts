import type { ParleyRequestError } from '../../client/parley-client';
import type { SignedOutEvent } from '../../protocol';
import { normalizeServerAddress } from '../../protocol/origin';
import type { ChatSession } from './chat-session';
import { describeSignInError, passwordPrompt, type SignInProblem } from './errors';

/**
 * Signing in, without VS Code: the server address and username come from the settings (or prompts). The secret
 * store keeps the session token the server issues (protocol 2), not the password: the editor signs back in on its
 * own with it (after a reload, or an idle sign-out) until sign-out, a password change or 30 days unused, and a copy
 * of it is revocable and good for one server only. host/auth.ts gives it VS Code's SecretStorage, settings and
 * input boxes. Neither the password nor the token is ever logged.
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
  private readonly onToken = ({ url, username, token }: { url: string; username: string; token: { token: string } }): void =>
    void Promise.resolve(this.secrets.store(this.tokenKey(url, username), token.token)).catch(() => {});

  constructor(
    private readonly secrets: SecretStore,
    private readonly session: ChatSession,
    private readonly ui: SignInUi,
    private readonly log: SignInLog,
  ) {
    session.on('problem', this.onProblem);
    session.on('signedOut', this.onSignedOut);
    session.on('token', this.onToken);
  }

  /** Where earlier versions kept the password: read once more to sign in, then replaced by a token. */
  private secretKey(url: string, username: string): string {
    return `parley.password:${url}:${username}`;
  }

  private tokenKey(url: string, username: string): string {
    return `parley.token:${url}:${username}`;
  }

  config(): { url: string; username: string } {
    return this.ui.settings();
  }

  /** Forgets what signs this user in by itself: the session token, and a password an earlier version kept. */
  async forgetPassword(url: string, username: string): Promise<void> {
    await this.secrets.delete(this.tokenKey(url, username));
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
    const normalized = normalizeServerAddress(url);
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

    if (request.password === undefined) {
      const resumed = await this.resume(url, username);
      if (resumed !== 'refused') return resumed;
    }
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
        await this.keepToken(url, username);
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

  /**
   * Signs in with the stored session token, if there is one: the username, undefined when it failed for another
   * reason than the token (after saying why), or 'refused' when there is none or the server refused it (forgotten).
   */
  private async resume(url: string, username: string): Promise<string | undefined | 'refused'> {
    const token = await this.secrets.get(this.tokenKey(url, username));
    if (!token) return 'refused';
    try {
      await this.session.connect(url, username, { token });
    } catch (err) {
      const problem = describeSignInError(err, url, username);
      this.log.warn(`Sign-in with the saved token failed (${problem.code}): ${problem.message}`);
      if (problem.code === 'INVALID_TOKEN') {
        await this.secrets.delete(this.tokenKey(url, username));
        return 'refused';
      }
      this.ui.explain(problem);
      return undefined;
    }
    await this.ui.saveSettings(url, username);
    this.log.info(`Signed in as ${username} on ${url}.`);
    return username;
  }

  /** After a sign-in with the password: the token takes the password's place in the secret store. */
  private async keepToken(url: string, username: string): Promise<void> {
    const token = this.session.sessionToken;
    if (token) await this.secrets.store(this.tokenKey(url, username), token.token);
    await this.secrets.delete(this.secretKey(url, username));
  }

  /** Signs out (the server revokes this session's token) and forgets the token: the next sign-in asks for the password. */
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

  /** What is stored no longer signs in once the password changed or the account was removed (the server revoked the token). */
  private async afterSignedOut(event: SignedOutEvent): Promise<void> {
    if (event.reason !== 'password-changed' && event.reason !== 'account-removed') return;
    const { url, username } = this.session.state.connection;
    if (url && username) await this.forgetPassword(url, username);
  }

  dispose(): void {
    this.session.off('problem', this.onProblem);
    this.session.off('signedOut', this.onSignedOut);
    this.session.off('token', this.onToken);
  }
}
