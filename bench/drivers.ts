/**
 * The load agents' clients: one real connection each. Against the Socket.IO servers (baseline and
 * Parley) that is a socket.io-client socket over a WebSocket of its own (forceNew, no multiplexing),
 * signed in with `login` like a ParleyClient. Against Parley (and the durable relay) it also acknowledges every
 * message it receives with a `received` request per 200 ms (ACK_DELAY_MS), as ParleyClient does, so the server
 * does the work a real client makes it do. Against the ws floor it is a plain `ws` WebSocket speaking JSON.
 */
import { randomUUID } from 'node:crypto';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import {
  GENERAL_CHANNEL,
  PROTOCOL_VERSION,
  type ChatMessage,
  type ClientToServerEvents,
  type HandshakeAuth,
  type ServerToClientEvents,
} from '../src/protocol';
import { ACK_DELAY_MS, acknowledgementBatches } from '../src/client/parley-client';
import { BENCH_PASSWORD, isDurable, type ServerKind } from './protocol';
import type { FloorEvent, FloorRequest } from './servers/ws-floor';

export interface ClientHooks {
  onMessage(client: BenchClient, message: ChatMessage): void;
  /** The connection closed without close() being called; `reason` as the client library tells it. */
  onDrop(client: BenchClient, reason: string): void;
}

export interface BenchClient {
  readonly index: number;
  readonly name: string;
  /** Connects and signs in; rejects (bounded by `timeoutMs`) if either fails. */
  open(timeoutMs: number): Promise<void>;
  /** Resolves with whether the server accepted it; never rejects. */
  direct(to: string, body: string): Promise<boolean>;
  broadcast(body: string): Promise<boolean>;
  /** A post to #general (Parley, protocol 3). */
  post(body: string): Promise<boolean>;
  close(): void;
}

export function createClient(kind: ServerKind, url: string, index: number, name: string, hooks: ClientHooks): BenchClient {
  return kind === 'ws' ? new FloorClient(url, index, name, hooks) : new SocketIoClient(url, index, name, isDurable(kind), hooks);
}

class SocketIoClient implements BenchClient {
  private readonly socket: Socket<ServerToClientEvents, ClientToServerEvents>;
  private toAcknowledge: number[] = [];
  private ackScheduled = false;
  private closing = false;

  constructor(
    url: string,
    readonly index: number,
    readonly name: string,
    acknowledge: boolean,
    hooks: ClientHooks,
  ) {
    const auth: HandshakeAuth = { protocol: PROTOCOL_VERSION };
    this.socket = io(url, { forceNew: true, transports: ['websocket'], reconnection: false, autoConnect: false, timeout: 60_000, auth });
    this.socket.on('message', (message) => {
      // Channel messages are never acknowledged (a read position says where a member is).
      if (acknowledge && message.kind !== 'channel') {
        this.toAcknowledge.push(message.id);
        if (!this.ackScheduled) {
          this.ackScheduled = true;
          setTimeout(() => this.flushAcknowledgements(), ACK_DELAY_MS);
        }
      }
      hooks.onMessage(this, message);
    });
    this.socket.on('disconnect', (reason) => {
      if (!this.closing) hooks.onDrop(this, reason);
    });
  }

  open(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (error: Error): void => {
        clearTimeout(timer);
        this.close();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`${this.name}: not signed in within ${timeoutMs} ms`)), timeoutMs);
      this.socket.once('connect_error', (err) => fail(err));
      this.socket.once('connect', () => {
        this.socket.emit('login', { username: this.name, password: BENCH_PASSWORD }, (reply) => {
          if (!reply.ok) return fail(new Error(`${this.name}: login refused: ${reply.error.code} ${reply.error.message}`));
          clearTimeout(timer);
          resolve();
        });
      });
      this.socket.connect();
    });
  }

  direct(to: string, body: string): Promise<boolean> {
    return new Promise((resolve) => this.socket.emit('message', { to, body, clientMsgId: randomUUID() }, (reply) => resolve(reply.ok)));
  }

  broadcast(body: string): Promise<boolean> {
    return new Promise((resolve) => this.socket.emit('broadcast', { body, clientMsgId: randomUUID() }, (reply) => resolve(reply.ok)));
  }

  post(body: string): Promise<boolean> {
    return new Promise((resolve) =>
      this.socket.emit('post', { channel: GENERAL_CHANNEL, body, clientMsgId: randomUUID() }, (reply) => resolve(reply.ok)),
    );
  }

  close(): void {
    this.closing = true;
    this.socket.disconnect();
  }

  /** As ParleyClient: one `received` per ACK_DELAY_MS, split as it splits them. */
  private flushAcknowledgements(): void {
    this.ackScheduled = false;
    const ids = this.toAcknowledge;
    this.toAcknowledge = [];
    if (this.closing) return;
    for (const batch of acknowledgementBatches(ids)) this.socket.emit('received', { ids: batch });
  }
}

class FloorClient implements BenchClient {
  private ws: WebSocket | undefined;
  private nextRid = 1;
  private readonly waiting = new Map<number, (ok: boolean) => void>();
  private closing = false;

  constructor(
    private readonly url: string,
    readonly index: number,
    readonly name: string,
    private readonly hooks: ClientHooks,
  ) {}

  open(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url.replace(/^http/, 'ws'), { perMessageDeflate: false });
      this.ws = ws;
      const timer = setTimeout(() => {
        this.close();
        reject(new Error(`${this.name}: not signed in within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      ws.on('message', (data) => {
        const event = JSON.parse(String(data)) as FloorEvent;
        if (event.t === 'message') return this.hooks.onMessage(this, event.message);
        const done = this.waiting.get(event.rid);
        this.waiting.delete(event.rid);
        done?.(event.reply.ok);
      });
      ws.on('close', (code) => {
        for (const done of this.waiting.values()) done(false);
        this.waiting.clear();
        if (!this.closing) this.hooks.onDrop(this, `close ${code}`);
      });
      ws.once('open', () => {
        void this.request({ t: 'login', rid: 0, username: this.name, password: BENCH_PASSWORD }).then((ok) => {
          clearTimeout(timer);
          if (ok) resolve();
          else reject(new Error(`${this.name}: login refused`));
        });
      });
    });
  }

  direct(to: string, body: string): Promise<boolean> {
    return this.request({ t: 'message', rid: 0, to, body, clientMsgId: randomUUID() });
  }

  broadcast(body: string): Promise<boolean> {
    return this.request({ t: 'broadcast', rid: 0, body, clientMsgId: randomUUID() });
  }

  /** The floor has no channels: everyone connected is its one room. */
  post(body: string): Promise<boolean> {
    return this.broadcast(body);
  }

  close(): void {
    this.closing = true;
    this.ws?.close();
  }

  private request(request: FloorRequest): Promise<boolean> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
    const rid = this.nextRid++;
    return new Promise((resolve) => {
      this.waiting.set(rid, resolve);
      ws.send(JSON.stringify({ ...request, rid }));
    });
  }
}
