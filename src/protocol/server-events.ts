import * as z from 'zod';
import type { ServerToClientEvents } from './events';

/**
 * What a client accepts from the server, checked as the server checks what clients send: a server that is
 * hostile, broken or of another version must not make a client show `NaN` for a time or throw on a missing
 * field. Extra fields are allowed (a newer server may add some).
 */
const chatMessage = z.object({
  id: z.number().int(),
  from: z.string(),
  to: z.string().nullable(),
  kind: z.enum(['direct', 'broadcast']),
  body: z.string(),
  sentAt: z.number().finite(),
});

const presenceEvent = z.object({ username: z.string(), online: z.boolean(), at: z.number().finite() });

export const serverEventSchemas = {
  message: chatMessage,
  presence: z.array(presenceEvent),
  signedOut: z.object({
    reason: z.enum(['logout', 'idle', 'shutdown', 'account-removed', 'password-changed']),
    message: z.string(),
  }),
  privateRevoked: z.object({ username: z.string(), reason: z.literal('blocked'), at: z.number().finite() }),
} satisfies { [E in keyof ServerToClientEvents]?: z.ZodType<Parameters<ServerToClientEvents[E]>[0]> };

export type CheckedServerEvent = keyof typeof serverEventSchemas;
