import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import type * as z from 'zod';
import {
  LIMITS,
  PROTOCOL_VERSION,
  describeIssues,
  serverEventSchemas,
  type CheckedServerEvent,
  type ChatMessage,
  type ClientToServerEvents,
  type HandshakeAuth,
  type ParleyError,
  type ReplyBodies,
  type ReplyTo,
  type RequestName,
  type RequestPayload,
  type ServerToClientEvents,
} from '../protocol';
import { Arrivals } from './arrivals';
import type { ClientEvents, ClientOptions, ConnectionState, SessionToken, SignInRetry } from './client-api';
import { ParleyRequestError } from './request-error';
import { untrustedCertificate } from './tls-failure';

export type * from './client-api';
export { ACK_DELAY_MS, acknowledgementBatches } from './arrivals';

// Re-exported: ParleyClient's users take its error from here.
export { ParleyRequestError };

/** What the client signs in again with after a dropped connection: the token first, the password if that is refused. */
interface Credentials {
  username: string;
  password?: string;
  token?: SessionToken;
}

const DEFAULT_SIGN_IN_RETRY: SignInRetry = { attempts: 8, delayMs: 500, maxDelayMs: 8_000 };

type Body<E extends RequestName> = ReplyBodies[E];

const DISCONNECTED = Symbol('disconnected');

/**
 * The client core, shared by the terminal client and the extension: one connection to a message
 * center, sign-in that survives reconnects, every request typed, and each message delivered once. One concern,
 * the connection's life: reconnects, the sign-in retry, acknowledgements and the request queue all follow its state.
 */
export class ParleyClient extends EventEmitter<ClientEvents> {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private readonly requestTimeoutMs: number;
  private readonly signInRetry: SignInRetry;
  /** Counts connections, so that a sign-in that waits to retry knows when its connection has been replaced. */
  private connections = 0;
  private credentials: Credentials | undefined;
  private resumeAfterShutdown = false;
  private currentState: ConnectionState = 'offline';
  private readonly arrivals = new Arrivals(
    () => this.currentState === 'signed-in',
    (ids) => this.socket.emit('received', { ids }),
  );

  constructor(
    readonly url: string,
    options: ClientOptions = {},
  ) {
    super();
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.signInRetry = { ...DEFAULT_SIGN_IN_RETRY, ...options.signInRetry };
    const auth: HandshakeAuth = { protocol: PROTOCOL_VERSION };
    this.socket = io(url, {
      autoConnect: false,
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
      ...options.socket,
      auth,
    });
    this.socket.on('connect', () => {
      this.connections += 1;
      void this.onConnect();
    });
    this.socket.on('disconnect', (reason) => {
      // After the server's goodbye (logout, idle, shutdown) or close(), socket.io does not reconnect.
      const willReconnect = this.socket.io.reconnection() && reason !== 'io server disconnect' && reason !== 'io client disconnect';
      if (reason === 'io server disconnect' && this.resumeAfterShutdown && this.socket.io.reconnection()) {
        // socket.io does not reconnect after the server's own disconnect; ask it to, with its usual backoff.
        this.resumeAfterShutdown = false;
        this.setState('reconnecting');
        this.socket.connect();
      } else if (!willReconnect) this.setState('offline');
      else this.setState(this.credentials ? 'reconnecting' : 'connecting');
    });
    this.socket.io.on('reconnect_failed', () => this.setState('offline'));
    this.onChecked('message', (message) => this.onMessage(message));
    this.onChecked('presence', (events) => {
      for (const event of events) this.emit('presence', event);
    });
    this.onChecked('privateRevoked', (event) => this.emit('privateRevoked', event));
    this.onChecked('ticketKeys', (event) => this.emit('ticketKeys', event));
    this.onChecked('read', (event) => this.emit('read', event));
    this.onChecked('channel', (event) => this.emit('channel', event));
    this.onChecked('signedOut', (event) => {
      // A server that shuts down is usually restarting: keep the credentials and come back with it.
      if (event.reason === 'shutdown' && this.credentials) this.resumeAfterShutdown = true;
      else this.forgetSession();
      this.emit('signedOut', event);
    });
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  get username(): string | undefined {
    return this.credentials?.username;
  }

  /** Opens the connection; rejects with a clear error if the server is unreachable or speaks another version. */
  connect(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    this.setState('connecting');
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        this.socket.off('connect', onConnect);
        this.socket.off('connect_error', onError);
      };
      const onConnect = (): void => {
        cleanup();
        resolve();
      };
      const onError = (err: Error & { data?: { code?: string } }): void => {
        cleanup();
        this.socket.disconnect();
        this.setState('offline');
        // The server's refusals (another protocol version, too many connections) carry their own words.
        const code = err.data?.code === 'UNSUPPORTED_VERSION' || err.data?.code === 'RATE_LIMITED' ? err.data.code : 'UNREACHABLE';
        const untrusted = untrustedCertificate(this.url, err);
        if (untrusted) return reject(new ParleyRequestError({ code: 'UNTRUSTED_CERTIFICATE', message: untrusted }));
        const message = code === 'UNREACHABLE' ? `Cannot reach a Parley server at ${this.url} (${err.message}).` : err.message;
        reject(new ParleyRequestError({ code, message }));
      };
      this.socket.on('connect', onConnect);
      this.socket.on('connect_error', onError);
      this.socket.connect();
    });
  }

  /** Listens to a server event, passing on only what its schema accepts; the rest is told as a problem. */
  private onChecked<E extends CheckedServerEvent>(event: E, handle: (payload: z.output<(typeof serverEventSchemas)[E]>) => void): void {
    const schema: z.ZodType = serverEventSchemas[event];
    (this.socket as unknown as { on(event: string, listener: (payload: unknown) => void): void }).on(event, (payload) => {
      const checked = schema.safeParse(payload);
      if (checked.success) return handle(checked.data as z.output<(typeof serverEventSchemas)[E]>);
      const problem = `The server sent a malformed "${event}" event, which was ignored (${describeIssues(checked.error)}).`;
      this.emit('problem', new ParleyRequestError({ code: 'INTERNAL', message: problem }));
    });
  }

  /** The session token to keep for the next sign-in (e.g. in the editor's secret storage), while signed in. */
  get sessionToken(): SessionToken | undefined {
    return this.credentials?.token;
  }

  async login(username: string, password: string): Promise<Body<'login'>> {
    const reply = await this.signIn({ username, password });
    this.credentials = { username, password };
    this.keepToken(reply);
    this.setState('signed-in');
    return reply;
  }

  /**
   * Signs in with a session token instead of the password (no password hash on the server); INVALID_TOKEN when
   * it expired or was revoked. Reconnects use it too, but have no password to fall back to.
   */
  async resume(token: string, username?: string): Promise<Body<'login'>> {
    const reply = await this.signIn({ token, ...(username !== undefined && { username }) });
    this.credentials = { username: reply.username, token: { token, expiresAt: reply.tokenExpiresAt ?? 0 } };
    this.setState('signed-in');
    return reply;
  }

  whoelse(): Promise<Body<'whoelse'>> {
    return this.request('whoelse', {});
  }

  wholast(minutes: number): Promise<Body<'wholast'>> {
    return this.request('wholast', { minutes });
  }

  /** Sends a direct message; retried with the same id after a dropped connection, so it is stored once. */
  message(to: string, body: string): Promise<Body<'message'>> {
    return this.request('message', { to, body, clientMsgId: randomUUID() });
  }

  broadcast(body: string, to?: string[]): Promise<Body<'broadcast'>> {
    return this.request('broadcast', { body, clientMsgId: randomUUID(), ...(to && { to }) });
  }

  /** Posts to a channel (protocol 3); retried with the same id after a dropped connection, so it is stored once. */
  post(channel: string, body: string): Promise<Body<'post'>> {
    return this.request('post', { channel, body, clientMsgId: randomUUID() });
  }

  block(username: string): Promise<Body<'block'>> {
    return this.request('block', { username });
  }

  unblock(username: string): Promise<Body<'unblock'>> {
    return this.request('unblock', { username });
  }

  blocklist(): Promise<Body<'blocklist'>> {
    return this.request('blocklist', {});
  }

  /** Every other account, with presence as this user may see it. */
  users(): Promise<Body<'users'>> {
    return this.request('users', {});
  }

  history(query: RequestPayload<'history'> = {}): Promise<Body<'history'>> {
    return this.request('history', query);
  }

  async logout(): Promise<void> {
    this.arrivals.flush();
    await this.request('logout', {});
    this.credentials = undefined;
  }

  /** Closes the connection without signing out on the server's side first. */
  close(): void {
    this.arrivals.flush();
    this.credentials = undefined;
    this.socket.disconnect();
    this.setState('offline');
    this.removeAllListeners();
  }

  /** Sends one request and returns its success body; a refusal throws ParleyRequestError. */
  async request<E extends RequestName>(event: E, payload: RequestPayload<E>): Promise<Body<E>> {
    const bytes = packetBytes(event, payload);
    if (bytes > LIMITS.packetBytesMax) {
      // The server would close the connection without a word (docs/protocol.md 1.3), and a retry would do it again.
      throw new ParleyRequestError({
        code: 'TOO_LONG',
        message: `This "${event}" request is too large to send: ${bytes} bytes, and the server reads at most ${LIMITS.packetBytesMax} per packet.`,
      });
    }
    const retryable = event !== 'login' && event !== 'logout';
    for (let attempt = 1; ; attempt++) {
      if (retryable) await this.untilSignedIn();
      let reply: ReplyTo<E>;
      try {
        reply = await this.send(event, payload);
      } catch (err) {
        if (retryable && attempt < 3 && this.credentials) continue;
        throw new ParleyRequestError({
          code: 'TIMEOUT',
          message:
            err === DISCONNECTED
              ? `The connection closed before "${event}" was answered.`
              : `The server did not answer "${event}" in time.`,
        });
      }
      if (reply.ok) {
        const { ok: _ok, ...body } = reply;
        return body as unknown as Body<E>;
      }
      // A request sent just as the connection dropped reaches a session that is not signed in yet.
      if (reply.error.code === 'NOT_SIGNED_IN' && retryable && this.credentials && attempt < 3) continue;
      throw toRequestError(reply.error);
    }
  }

  /** One emit that fails at once if the connection drops, rather than waiting out the timeout. */
  private send<E extends RequestName>(event: E, payload: RequestPayload<E>): Promise<ReplyTo<E>> {
    return new Promise((resolve, reject) => {
      const onDisconnect = (): void => reject(DISCONNECTED);
      this.socket.once('disconnect', onDisconnect);
      // socket.io's typings cannot follow a generic event name through timeout(); the shapes are checked above.
      const socket = this.socket.timeout(this.requestTimeoutMs) as unknown as {
        emit(e: E, p: RequestPayload<E>, ack: (err: Error | null, reply: ReplyTo<E>) => void): void;
      };
      socket.emit(event, payload, (err, reply) => {
        this.socket.off('disconnect', onDisconnect);
        if (err) reject(err);
        else resolve(reply);
      });
    });
  }

  private untilSignedIn(): Promise<void> {
    if (this.currentState === 'signed-in' || !this.credentials) return Promise.resolve();
    if (this.currentState === 'offline') {
      return Promise.reject(new ParleyRequestError({ code: 'UNREACHABLE', message: 'Not connected to the server.' }));
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('state', onState);
        reject(new ParleyRequestError({ code: 'UNREACHABLE', message: 'Not connected to the server; try again when it is back.' }));
      }, this.requestTimeoutMs * 3);
      const onState = (state: ConnectionState): void => {
        if (state === 'signed-in' || state === 'offline') {
          clearTimeout(timer);
          this.off('state', onState);
          if (state === 'signed-in') resolve();
          else reject(new ParleyRequestError({ code: 'UNREACHABLE', message: 'Disconnected from the server.' }));
        }
      };
      this.on('state', onState);
    });
  }

  private async onConnect(): Promise<void> {
    const credentials = this.credentials;
    if (!credentials) return this.setState('connected');
    const connection = this.connections;
    try {
      await this.signInAgain(credentials);
      this.setState('signed-in');
      this.emit('resumed');
    } catch (err) {
      if (connection !== this.connections) return; // the next connection signs in by itself
      this.forgetSession();
      this.setState('connected');
      this.emit('problem', err instanceof ParleyRequestError ? err : new ParleyRequestError({ code: 'INTERNAL', message: String(err) }));
    }
  }

  /**
   * `login`, sent again after a growing, jittered delay while the server refuses it as RATE_LIMITED: a
   * refusal that says "busy", not "wrong", and that would otherwise end the session of every client that
   * comes back together after a restart. Stops when the connection it was sent on is gone.
   */
  private async signIn(payload: RequestPayload<'login'>): Promise<Body<'login'>> {
    const connection = this.connections;
    const { attempts, delayMs, maxDelayMs } = this.signInRetry;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.request('login', payload);
      } catch (err) {
        if (!(err instanceof ParleyRequestError) || err.code !== 'RATE_LIMITED' || attempt >= attempts) throw err;
        const delay = Math.min(maxDelayMs, delayMs * 2 ** (attempt - 1));
        await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random() / 2)));
        if (connection !== this.connections || !this.socket.connected) {
          throw new ParleyRequestError({ code: 'TIMEOUT', message: 'The connection closed before "login" was answered.' });
        }
      }
    }
  }

  /** With the token when there is one, so that a reconnect costs the server no password hash; the password if it is refused. */
  private async signInAgain(credentials: Credentials): Promise<void> {
    const { username, password, token } = credentials;
    if (token) {
      try {
        const reply = await this.signIn({ username, token: token.token });
        token.expiresAt = reply.tokenExpiresAt ?? token.expiresAt;
        return;
      } catch (err) {
        if (!(err instanceof ParleyRequestError && err.code === 'INVALID_TOKEN' && password !== undefined)) throw err;
        credentials.token = undefined;
      }
    }
    if (password === undefined) throw new ParleyRequestError({ code: 'INTERNAL', message: 'No password or token to sign in again with.' });
    this.keepToken(await this.signIn({ username, password }));
  }

  private keepToken(reply: Body<'login'>): void {
    if (!this.credentials || reply.token === undefined || reply.tokenExpiresAt === undefined) return;
    this.credentials.token = { token: reply.token, expiresAt: reply.tokenExpiresAt };
    this.emit('token', this.credentials.token);
  }

  private onMessage(message: ChatMessage): void {
    if (this.arrivals.arrived(message, this.credentials?.username)) this.emit('message', message);
  }

  /** Signed out for good: acknowledgements still held are the server's to replay at the next sign-in, maybe as someone else. */
  private forgetSession(): void {
    this.credentials = undefined;
    this.arrivals.forget();
  }

  private setState(state: ConnectionState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    if (state === 'signed-in' && this.arrivals.hasUnacknowledged) this.arrivals.flush();
    this.emit('state', state);
  }
}

/** Engine.IO's and Socket.IO's headers before a request's JSON: packet types and an ack id. */
const PACKET_HEADER_BYTES = 24;

/** About what one request takes on the wire, never less. */
function packetBytes(event: string, payload: unknown): number {
  return PACKET_HEADER_BYTES + Buffer.byteLength(JSON.stringify([event, payload]));
}

function toRequestError(error: ParleyError): ParleyRequestError {
  return new ParleyRequestError({
    code: error.code,
    message: error.message,
    ...(error.retryAfterSeconds !== undefined && { retryAfterSeconds: error.retryAfterSeconds }),
  });
}
