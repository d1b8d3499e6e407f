import type { SignedOutEvent } from '../../protocol';
import type { ConnectionPhase } from '../../view-protocol';
import type { ChatSession } from './chat-session';

/**
 * Follows the user's attention to the editor, without VS Code (host/user-activity.ts brings the signals: window
 * focus, the chat view shown, typing). The server hears that the user is away once the window has been without
 * focus for `awayAfterMs`, and that they are back when it regains it (protocol 3 `status`). After the server's
 * idle sign-out, the user coming back signs the session in again with its stored token, and the replay shows
 * what arrived meanwhile. Only once per sign-out: a refusal (another session on a `--single-session` server)
 * leaves it signed out, with the reason said by the sign-in, rather than taking the session back at every focus.
 */

export interface AttentionOptions {
  /** How long the window may be without focus before the user counts as away. Default 5 minutes. */
  awayAfterMs?: number;
}

/** Signs in with what is stored for this server and user, asking nothing; the username, or undefined when it failed (after saying why). */
export type SignInAgain = (who: { url: string; username: string }) => Promise<string | undefined>;

export const AWAY_AFTER_MS = 5 * 60_000;

export class Attention {
  private readonly awayAfterMs: number;
  private awayTimer: NodeJS.Timeout | undefined;
  /** The user has been away (the window without focus) long enough; until they are back. */
  private away = false;
  /** What this sign-in last told the server. */
  private toldAway = false;
  /** Set by the server's idle sign-out: where to sign in again when the user is back. */
  private signedOutIdle: { url: string; username: string } | undefined;
  private phase: ConnectionPhase;
  private readonly onSignedOut = (event: SignedOutEvent): void => this.afterSignedOut(event);
  private readonly onConnection = (): void => this.connectionChanged();

  constructor(
    private readonly session: ChatSession,
    private readonly signInAgain: SignInAgain,
    options: AttentionOptions = {},
  ) {
    this.awayAfterMs = options.awayAfterMs ?? AWAY_AFTER_MS;
    this.phase = session.state.connection.phase;
    session.on('signedOut', this.onSignedOut);
    session.state.on('connection', this.onConnection);
  }

  /** The editor window gained or lost focus. */
  focusChanged(focused: boolean): void {
    clearTimeout(this.awayTimer);
    this.awayTimer = undefined;
    if (focused) return this.back();
    this.awayTimer = setTimeout(() => {
      this.awayTimer = undefined;
      this.away = true;
      this.tell(true);
    }, this.awayAfterMs);
  }

  /** The user is at the editor: the window gained focus, the chat view was shown, they typed. */
  back(): void {
    this.away = false;
    if (this.toldAway) this.tell(false);
    const where = this.signedOutIdle;
    const phase = this.session.state.connection.phase;
    if (!where || (phase !== 'signed-out' && phase !== 'private-only')) return;
    this.signedOutIdle = undefined;
    void this.signInAgain(where).catch(() => {});
  }

  dispose(): void {
    clearTimeout(this.awayTimer);
    this.session.off('signedOut', this.onSignedOut);
    this.session.state.off('connection', this.onConnection);
  }

  private tell(away: boolean): void {
    if (!this.session.signedIn) return;
    this.toldAway = away;
    this.session.setIdle(away).catch(() => {});
  }

  private afterSignedOut(event: SignedOutEvent): void {
    const { url, username } = this.session.state.connection;
    if (event.reason === 'idle' && url !== undefined && username !== undefined) this.signedOutIdle = { url, username };
  }

  /** Every sign-in is a new session on the server, not away: it is told again if the user still is. */
  private connectionChanged(): void {
    const phase = this.session.state.connection.phase;
    const signedIn = phase === 'signed-in' && this.phase !== 'signed-in';
    this.phase = phase;
    if (!signedIn) return;
    this.signedOutIdle = undefined;
    this.toldAway = false;
    if (this.away) this.tell(true);
  }
}
