// Shared by the test/private-*.test.ts files: private-chat peers on a real message center, raw dialling
// of a peer listener, and a record of everything the message center's sockets carried.
import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { io, type Socket } from 'socket.io-client';
import type { ParleyClient } from '../src/client/parley-client';
import { PrivateChannels, type PrivateChannelsEvents, type PrivateChannelsOptions } from '../src/client/private-channels';
import { channelKeys, generatePeerKeys, type ChannelKeys, type PeerKeyPair } from '../src/client/private-crypto';
import { PRIVATE_PROTOCOL, decodeTicket, type PeerFrame, type ReplyBodies } from '../src/protocol';
import type { ParleyServer } from '../src/server/server';
import { nextEmitted, startServer, type TestServer } from './helpers/server';

export interface Peer {
  name: string;
  client: ParleyClient;
  channels: PrivateChannels;
}

/** Peers not closed yet: a test that fails half-way leaves listeners open, which would keep the run alive. */
const live = new Set<Peer>();

/** A signed-in client with private chat on the test server's clock, its listener registered. */
export async function peer(t: TestServer, name: string, options: PrivateChannelsOptions = {}): Promise<Peer> {
  const client = await t.signIn(name);
  const channels = new PrivateChannels(client, { clock: t.clock.read, ...options });
  const p = { name, client, channels };
  live.add(p);
  await channels.ready();
  return p;
}

export async function closePeers(...peers: Peer[]): Promise<void> {
  for (const p of peers) {
    live.delete(p);
    await p.channels.close();
    p.client.close();
  }
}

/** A message center with alice and bob signed in, each with private chat: the fixture of many suites here. */
export async function startPair(): Promise<{ t: TestServer; alice: Peer; bob: Peer }> {
  const t = await startServer({ users: ['alice', 'bob'] });
  return { t, alice: await peer(t, 'alice'), bob: await peer(t, 'bob') };
}

export async function closePair({ t, alice, bob }: { t: TestServer; alice: Peer; bob: Peer }): Promise<void> {
  await closePeers(alice, bob);
  await t.close();
}

/** Closes every peer a test left open (for an `after` hook). */
export function closeLeftoverPeers(): Promise<void> {
  return closePeers(...live);
}

/** The next `event` of a PrivateChannels that matches, or a failure after `ms`. */
export function nextPrivate<E extends keyof PrivateChannelsEvents>(
  channels: PrivateChannels,
  event: E,
  match: (...args: PrivateChannelsEvents[E]) => boolean = () => true,
  ms = 3000,
): Promise<PrivateChannelsEvents[E]> {
  return nextEmitted<PrivateChannelsEvents, E>(channels, event, match, ms);
}

/** Every event of one kind, for asserting on what did (not) happen. */
export function recordPrivate<E extends keyof PrivateChannelsEvents>(channels: PrivateChannels, event: E): PrivateChannelsEvents[E][] {
  const seen: PrivateChannelsEvents[E][] = [];
  (channels as unknown as EventEmitter).on(event, (...args: unknown[]) => seen.push(args as PrivateChannelsEvents[E]));
  return seen;
}

/**
 * Everything the message center's Engine.IO sockets received and sent, as text, from the moment this
 * is called: the server-side proof that private messages never pass through it.
 */
export function captureServerTraffic(server: ParleyServer): string[] {
  const seen: string[] = [];
  const record = (packet: { type: string; data?: unknown }): void => {
    seen.push(
      `${packet.type} ${typeof packet.data === 'string' ? packet.data : Buffer.isBuffer(packet.data) ? packet.data.toString('latin1') : ''}`,
    );
  };
  server.io.engine.on('connection', (socket: EventEmitter) => {
    socket.on('packet', record);
    socket.on('packetCreate', record);
  });
  return seen;
}

/** The name of a captured Socket.IO event (packet type 2, with or without an ack id); undefined for any other packet. */
function eventName(packet: string): string | undefined {
  const json = /^message 2\d*(\[.*)$/s.exec(packet)?.[1];
  if (json === undefined) return undefined;
  try {
    const [name] = JSON.parse(json) as unknown[];
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The server-side proof that a private chat did not pass through the message center: none of its text
 * in anything the server received or sent, no `frame` event ever, and, from `mark` (the capture's length
 * when the peers began to talk) on, no packet at all but heartbeats, replies, and the events in `allow`
 * (which a client sends or gets for reasons of its own, e.g. a people list refresh). Encrypted frames
 * relayed by the server would fail the last two checks, not only the first.
 */
export function assertServerCarriedNoPrivateChat(traffic: string[], proof: { secrets: string[]; mark: number; allow?: string[] }): void {
  for (const secret of proof.secrets) assert.ok(!traffic.some((p) => p.includes(secret)), `the message center carried "${secret}"`);
  assert.ok(!traffic.some((p) => eventName(p) === 'frame'), 'a private frame passed the message center');
  const allowed = new Set(proof.allow ?? []);
  const during = traffic
    .slice(proof.mark)
    .filter((p) => !/^(ping|pong) /.test(p) && !/^message 3/.test(p) && !allowed.has(eventName(p) ?? ''));
  assert.deepEqual(during, [], 'while the peers talked, the message center carried nothing but heartbeats');
}

/** Dials a peer listener as a hand-written (possibly hostile) client would; resolves once accepted, rejects with the refusal code. */
export function dial(endpoint: { host: string; port: number }, auth: unknown): Promise<Socket> {
  const socket = io(`http://${endpoint.host}:${endpoint.port}`, {
    forceNew: true,
    reconnection: false,
    transports: ['websocket'],
    auth: auth as object,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      socket.disconnect();
      reject(Object.assign(new Error(`refused: ${err.data?.code ?? err.message}`), { code: err.data?.code }));
    });
  });
}

/** A ticket for `from` to reach `to`, asked for with a key pair of the test's own (as a hand-written client would). */
export async function ticketFor(from: Peer, to: string, keys: PeerKeyPair = generatePeerKeys()) {
  const reply: ReplyBodies['startprivate'] = await from.client.request('startprivate', { username: to, publicKey: keys.publicKey });
  const nonce = decodeTicket(reply.ticket)!.payload.nonce;
  return {
    reply,
    keys,
    nonce,
    /** The dialling side's channel keys for this ticket, as whoever holds `own` derives them (by default the pair it names). */
    initiatorKeys: (own: PeerKeyPair = keys): ChannelKeys => channelKeys(own, reply.publicKey, reply.ticket, nonce, 'initiator'),
    /** Dials `to` with this ticket and the key it names, as the client it was issued to would. */
    dial: (): Promise<Socket> => dial(reply, handshake(reply.ticket, keys.publicKey)),
  };
}

/** Sends a sealed frame over a raw socket. */
export const emitFrame = (socket: Socket, frame: PeerFrame): void => void socket.emit('frame', frame);

export const handshake = (ticket: string, publicKey: string): object => ({ protocol: PRIVATE_PROTOCOL, ticket, publicKey });

export const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
