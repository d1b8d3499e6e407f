import * as z from 'zod';
import type { ServerToClientEvents } from './events';
import { LIMITS } from './limits';
import { publicKeySchema } from './schemas';

/**
 * What a client accepts from the server, checked as the server checks what clients send: a server that is
 * hostile, broken or of another version must not make a client show `NaN` for a time or throw on a missing
 * field. Extra fields are allowed (a newer server may add some).
 */
const chatMessage = z.object({
  id: z.number().int(),
  from: z.string(),
  to: z.string().nullable(),
  kind: z.enum(['direct', 'broadcast', 'channel']),
  body: z.string(),
  sentAt: z.number().finite(),
  channel: z.string().optional(),
  seq: z.number().int().nonnegative().optional(),
  mentions: z.array(z.string()).optional(),
});

const presenceEvent = z.object({ username: z.string(), online: z.boolean(), at: z.number().finite(), idle: z.boolean().optional() });

const channelState = z.object({
  name: z.string(),
  topic: z.string(),
  private: z.boolean(),
  creator: z.string().nullable(),
  members: z.number().int().nonnegative(),
  member: z.boolean(),
  lastSeq: z.number().int().nonnegative(),
  readSeq: z.number().int().nonnegative(),
  unread: z.number().int().nonnegative(),
  mentions: z.number().int().nonnegative(),
});

const conversationRef = z.union([
  z.object({ channel: z.string() }),
  z.object({ with: z.string() }),
  z.object({ broadcasts: z.literal(true) }),
]);

/** A cluster's ticket keys (the `peer` reply's `ticketKeys`, the event `ticketKeys`): Ed25519 public keys, 32 bytes in base64url. */
export const ticketKeysSchema = z.array(publicKeySchema).min(1).max(LIMITS.ticketKeysMax);

export const serverEventSchemas = {
  message: chatMessage,
  presence: z.array(presenceEvent),
  signedOut: z.object({
    reason: z.enum(['logout', 'idle', 'shutdown', 'account-removed', 'password-changed']),
    message: z.string(),
  }),
  privateRevoked: z.object({ username: z.string(), reason: z.literal('blocked'), at: z.number().finite() }),
  ticketKeys: z.object({ keys: ticketKeysSchema }),
  read: z.object({ conversation: conversationRef, upTo: z.number().int().nonnegative() }),
  channel: z.object({
    change: z.enum(['created', 'joined', 'left', 'added', 'removed', 'topic', 'renamed', 'deleted']),
    channel: z.string(),
    by: z.string(),
    at: z.number().finite(),
    username: z.string().optional(),
    to: z.string().optional(),
    topic: z.string().optional(),
    state: channelState.optional(),
  }),
} satisfies { [E in keyof ServerToClientEvents]?: z.ZodType<Parameters<ServerToClientEvents[E]>[0]> };

export type CheckedServerEvent = keyof typeof serverEventSchemas;
