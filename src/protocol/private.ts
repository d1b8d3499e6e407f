import * as z from 'zod';
import { LIMITS } from './limits';
import { publicKeySchema, usernameSchema } from './schemas';

/**
 * Private chat: the pieces two clients and the message center must agree on. The message center only
 * vouches for the peers (address, keys, a signed ticket); private messages travel over a direct peer
 * channel and never through it. docs/private-chat.md describes the construction.
 */

/** Version tag mixed into every signature, key derivation and frame, so that nothing is valid across versions. */
export const PRIVATE_PROTOCOL = 'parley-private/1';

/** What the server signs: which two users, holding which keys, may open one channel until `exp`. */
export const ticketPayloadSchema = z
  .object({
    v: z.literal(1),
    from: usernameSchema,
    to: usernameSchema,
    fromKey: publicKeySchema,
    toKey: publicKeySchema,
    /** Server time (ms since the epoch) at issue and expiry. */
    iat: z.number().int().nonnegative(),
    exp: z.number().int().nonnegative(),
    /** 16 random bytes, base64url: makes the ticket single-use and salts the channel keys. */
    nonce: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
  })
  .strict();

export type TicketPayload = z.infer<typeof ticketPayloadSchema>;

/** Largest ticket accepted: a payload of the longest usernames, base64url, and a signature, with room to spare. */
export const TICKET_MAX_CHARS = 1024;

/** The bytes a ticket's signature covers: the version tag, a dot, and the base64url payload as sent. */
export function ticketSigningInput(encodedPayload: string): Buffer {
  return Buffer.from(`${PRIVATE_PROTOCOL} ticket.${encodedPayload}`, 'utf8');
}

/** `base64url(JSON payload) "." base64url(signature)`: the signature covers the payload exactly as transmitted. */
export function encodeTicket(payload: TicketPayload, sign: (input: Buffer) => Buffer): string {
  const encoded = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
  return `${encoded}.${sign(ticketSigningInput(encoded)).toString('base64url')}`;
}

/** Splits and parses a ticket without checking its signature; undefined when it is not even well formed. */
export function decodeTicket(ticket: string): { payload: TicketPayload; encoded: string; signature: Buffer } | undefined {
  if (ticket.length > TICKET_MAX_CHARS) return undefined;
  const match = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})$/.exec(ticket);
  if (!match) return undefined;
  const [, encoded = '', sig = ''] = match;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = ticketPayloadSchema.safeParse(json);
  return parsed.success ? { payload: parsed.data, encoded, signature: Buffer.from(sig, 'base64url') } : undefined;
}

/**
 * How far the clock a ticket's times were read on and the clock that judges them may differ beyond what the client measured:
 * its allowance on `iat` and `exp`, and in a cluster how far a revocation reaches past its time (docs/scaling.md, "Clocks").
 */
export const TICKET_CLOCK_SKEW_MS = 5_000;

/** The Socket.IO handshake a peer presents to another's listener (`io(url, { auth })`). */
export const peerHandshakeSchema = z
  .object({
    protocol: z.literal(PRIVATE_PROTOCOL),
    ticket: z.string().max(TICKET_MAX_CHARS),
    publicKey: publicKeySchema,
  })
  .strict();

export type PeerHandshake = z.infer<typeof peerHandshakeSchema>;

/** Longest sealed frame: a maximal message JSON-escaped (6 bytes a character at worst), in base64url, plus the tag. */
export const FRAME_MAX_CHARS = Math.ceil(((LIMITS.messageMax * 6 + 256) * 4) / 3) + 64;

/** One AEAD frame on the peer channel: its counter, and ciphertext with the 16-byte tag appended, base64url. */
export const peerFrameSchema = z
  .object({
    n: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    c: z
      .string()
      .min(22)
      .max(FRAME_MAX_CHARS)
      .regex(/^[A-Za-z0-9_-]+$/),
  })
  .strict();

export type PeerFrame = z.infer<typeof peerFrameSchema>;

/** Why a channel was closed by one side on purpose, said inside an authenticated frame. */
export const BYE_REASONS = ['stopped', 'signed-out', 'blocked'] as const;
export type ByeReason = (typeof BYE_REASONS)[number];

/** What a frame holds once opened: frame 0 each way is `confirm`, proving the sender holds its private key. */
export const peerPlaintextSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('confirm'), v: z.literal(1) }).strict(),
  z
    .object({
      t: z.literal('msg'),
      body: z
        .string()
        .refine((s) => s.trim().length > 0, 'a message cannot be empty')
        .refine((s) => s.length <= LIMITS.messageMax, `a message has at most ${LIMITS.messageMax} characters`),
      /** The sender's clock when it was sent (ms since the epoch): shown, never trusted for anything. */
      at: z.number().int().nonnegative(),
    })
    .strict(),
  z.object({ t: z.literal('bye'), reason: z.enum(BYE_REASONS) }).strict(),
]);

export type PeerPlaintext = z.infer<typeof peerPlaintextSchema>;

/**
 * Why a listener refused a connection, sent back as the Socket.IO connect error's `data.code`
 * (and reported locally through the `refused` event). `WEB_PAGE` and `RATE_LIMITED` come before the
 * handshake is read: the caller gets an HTTP error instead, with the text as its body.
 */
export const PEER_REFUSALS = {
  WEB_PAGE: 'the connection came from a web page (it named an origin), not from a Parley client',
  RATE_LIMITED: 'too many refused connections from this address; try again in a minute',
  BAD_HANDSHAKE: 'the connection did not present a ticket and key',
  NOT_READY: 'this client is not registered with a message center yet',
  BAD_TICKET: 'the ticket is malformed or its signature is not the message center’s (forged)',
  WRONG_RECIPIENT: 'the ticket is for another user',
  STALE_KEY: 'the ticket is for another session or an older key of this user',
  KEY_MISMATCH: 'the key presented is not the one the ticket was issued for (impersonation)',
  EXPIRED: 'the ticket has expired',
  NOT_YET_VALID: 'the ticket is dated in the future',
  REPLAYED: 'the ticket was already used',
  REVOKED: 'the two users blocked each other after the ticket was issued',
  CROSSED: 'a private chat between the two is being opened from the other side',
  KEY_CONFIRMATION_FAILED: 'the peer could not prove it holds the private key for its ticket',
} as const;

export type PeerRefusal = keyof typeof PEER_REFUSALS;

/** Server to client: the two users can no longer chat privately (one blocked the other); clients close the channel. */
export interface PrivateRevokedEvent {
  username: string;
  reason: 'blocked';
  /** Server time of the block: tickets for the pair issued at or before it are refused. */
  at: number;
}
