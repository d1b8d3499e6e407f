import assert from 'node:assert/strict';
import { io, type Socket } from 'socket.io-client';
import type { ParleyClient } from '../../src/client/parley-client';
import type { ChatMessage, Reply, ReplyBodies } from '../../src/protocol';
import { collect, passwordOf, type TestServer } from './server';

/** A user's messages of one channel among what a client received, in arrival order. */
export function channelMessages(got: ReturnType<typeof collect<'message'>>, channel: string): ChatMessage[] {
  return got.map(([m]) => m).filter((m) => m.kind === 'channel' && m.channel === channel);
}

/** Posts `count` messages `prefix0`, `prefix1`... in order, each once its previous one is stored. */
export async function postMany(client: ParleyClient, channel: string, count: number, prefix = 'm'): Promise<void> {
  for (let i = 0; i < count; i++) await client.post(channel, `${prefix}${i}`);
}

/** The user's state of a channel from `conversations`. */
export async function stateOf(
  client: ParleyClient,
  channel: string,
): Promise<ReplyBodies['conversations']['channels'][number] | undefined> {
  const { channels } = await client.request('conversations', {});
  return channels.find((c) => c.name === channel);
}

/** A bare Socket.IO client of an older protocol, signed in; it records every event it gets. */
export interface OldSession {
  socket: Socket;
  messages: ChatMessage[];
  events: string[];
  ask(event: string, payload: unknown): Promise<Reply>;
}

export async function oldSession(t: TestServer, username: string, protocol: 1 | 2): Promise<OldSession> {
  const socket = io(t.url, { transports: ['websocket'], auth: { protocol }, forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  const messages: ChatMessage[] = [];
  const events: string[] = [];
  socket.onAny((event: string, payload: unknown) => {
    events.push(event);
    if (event === 'message') messages.push(payload as ChatMessage);
  });
  const ask = (event: string, payload: unknown): Promise<Reply> => socket.timeout(3000).emitWithAck(event, payload) as Promise<Reply>;
  const reply = await ask('login', { username, password: passwordOf(username) });
  assert.ok(reply.ok, `${username} signs in with protocol ${protocol}`);
  return { socket, messages, events, ask };
}

export function assertRefused(reply: Reply, code: string, message?: RegExp): void {
  assert.equal(reply.ok, false, `expected ${code}, got ${JSON.stringify(reply)}`);
  if (reply.ok) return;
  assert.equal(reply.error.code, code, JSON.stringify(reply.error));
  if (message) assert.match(reply.error.message, message);
}

export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Enough sends for tests that post dozens of messages with a clock that stands still. */
export const GENEROUS_RATES = {
  rateLimit: { burst: 5000, perSecond: 1000 },
  sendRate: { burst: 5000, perSecond: 1000 },
  channelChangeRate: { burst: 5000, perSecond: 1000 },
};
