import { z } from 'zod';
import { publicKeySchema, type ChannelEvent, type ChannelState, type ConversationRef } from '../../protocol';

/**
 * What one node tells the others after a change it stored (docs/scaling.md "Cluster mode"): the others
 * update what they keep in memory and tell their own sessions. Messages are not among these: every node
 * reads them from the database in id order (./message-tail.ts).
 */
export type ClusterEvent =
  | { type: 'account'; user: string; change: 'added' | 'removed' | 'password' }
  | { type: 'block'; blocker: string; blocked: string; on: boolean }
  /** `newcomer`: who joined or was added, with their state of the channel, which only the node that stored it computed. */
  | { type: 'channel'; id: number; event: ChannelEvent; newcomer?: { user: string; state: ChannelState } }
  /** `key` names the conversation as ChannelService remembers read positions (a channel by its id). */
  | { type: 'read'; user: string; key: string; conversation: ConversationRef; upTo: number }
  /** A node's sessions of some users changed: online there (idle when all of them are), or none (`idle` null) since `at`. */
  | { type: 'presence'; node: string; changes: PresenceChange[] }
  /** A node joined (or joined again after it was taken out): clients accept tickets signed with `ticketKey` from now on. */
  | { type: 'node'; node: string; ticketKey: string }
  /** A node stopped (or was found dead): its users are gone from it since `at`. */
  | { type: 'gone'; node: string; at: number }
  /** A node's mark to itself: once it hears it, it has heard everything announced before (see PgCluster.caughtUp). */
  | { type: 'sync'; token: string };

export interface PresenceChange {
  user: string;
  idle: boolean | null;
  at: number;
}

/** What the services publish themselves: presence and the rest are PgCluster's own. */
export type PublishedEvent = Extract<ClusterEvent, { type: 'account' | 'block' | 'channel' | 'read' }>;

/** As sent: the event and the node it comes from, which ignores its own. */
export interface Envelope {
  from: string;
  event: ClusterEvent;
}

/** PostgreSQL's channel for events, as JSON (messages wake the nodes on ../store/pg-queries.ts's MESSAGES_CHANNEL). */
export const EVENTS_CHANNEL = 'parley_events';

const name = z.string().min(1).max(64);
const eventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('account'), user: name, change: z.enum(['added', 'removed', 'password']) }),
  z.object({ type: z.literal('block'), blocker: name, blocked: name, on: z.boolean() }),
  // The channel's own event and state come from a node of the same build: their shape is the protocol's.
  z.object({
    type: z.literal('channel'),
    id: z.number().int(),
    event: z.object({ change: z.string(), channel: z.string() }).passthrough(),
    newcomer: z.object({ user: name, state: z.object({}).passthrough() }).optional(),
  }),
  z.object({ type: z.literal('read'), user: name, key: z.string(), conversation: z.object({}).passthrough(), upTo: z.number().int() }),
  z.object({
    type: z.literal('presence'),
    node: name,
    changes: z.array(z.object({ user: name, idle: z.boolean().nullable(), at: z.number() })),
  }),
  z.object({ type: z.literal('node'), node: name, ticketKey: publicKeySchema }),
  z.object({ type: z.literal('gone'), node: name, at: z.number() }),
  z.object({ type: z.literal('sync'), token: z.string().max(64) }),
]);
const envelopeSchema = z.object({ from: name, event: eventSchema });

/** The envelope in a notification's payload; undefined for one that is not (another program's, another version's). */
export function parseEnvelope(payload: string | undefined): Envelope | undefined {
  try {
    const parsed = envelopeSchema.safeParse(JSON.parse(payload ?? ''));
    return parsed.success ? (parsed.data as Envelope) : undefined;
  } catch {
    return undefined;
  }
}

/** NOTIFY payloads must stay under 8,000 bytes: an event that would not is refused here rather than lost there. */
export function encodeEnvelope(envelope: Envelope): string {
  const payload = JSON.stringify(envelope);
  if (Buffer.byteLength(payload) >= 8000) throw new Error(`a ${envelope.event.type} event is too big to send to the other nodes`);
  return payload;
}
