import * as z from 'zod';
import { CHANNEL_PATTERN, LIMITS, LONE_SURROGATE, USERNAME_PATTERN } from './limits';

/**
 * At most `max` UTF-16 code units, as docs/protocol.md 2.4 counts and the clients check (zod's `.max` counts
 * code points, so an emoji would count once instead of twice). A `too_big` issue, like `.max`'s.
 */
function maxUnits(max: number, message: string) {
  return (s: string, ctx: z.RefinementCtx): void => {
    if (s.length > max) ctx.addIssue({ code: 'too_big', origin: 'string', maximum: max, inclusive: true, input: s, message });
  };
}

export const usernameSchema = z
  .string()
  .min(1, 'a username is required')
  .max(LIMITS.usernameMax, `a username has at most ${LIMITS.usernameMax} characters`)
  .regex(USERNAME_PATTERN, 'a username may hold only letters, digits, ".", "_" and "-"');

/** Text the store keeps as it was sent: see LONE_SURROGATE. */
const wellFormed = (s: string): boolean => !LONE_SURROGATE.test(s);

/** The one password rule: sign-in, admin.sock and the users CLI all apply it. */
export const passwordSchema = z
  .string()
  .min(1, 'a password is required')
  .superRefine(maxUnits(LIMITS.passwordMax, `a password has at most ${LIMITS.passwordMax} characters`))
  .refine(wellFormed, 'a password cannot contain a lone UTF-16 surrogate (it is not valid Unicode text)');

/** The store cannot keep U+0000 (SQLite's text ends there), so no stored string may hold one. */
const withoutNul = (s: string): boolean => !s.includes('\0');

const bodySchema = z
  .string()
  .superRefine(maxUnits(LIMITS.messageMax, `a message has at most ${LIMITS.messageMax} characters`))
  .refine((s) => s.trim().length > 0, 'a message cannot be empty')
  .refine(withoutNul, 'a message cannot contain the character U+0000 (NUL)')
  .refine(wellFormed, 'a message cannot contain a lone UTF-16 surrogate (it is not valid Unicode text)');

/** A channel's name on the wire, without its `#` (protocol 3). */
export const channelNameSchema = z
  .string()
  .regex(CHANNEL_PATTERN, `a channel name has 1 to ${LIMITS.channelNameMax} lowercase letters, digits and "-" (no "#")`);

const topicSchema = z
  .string()
  .superRefine(maxUnits(LIMITS.channelTopicMax, `a topic has at most ${LIMITS.channelTopicMax} characters`))
  .refine(withoutNul, 'a topic cannot contain the character U+0000 (NUL)')
  .refine(wellFormed, 'a topic cannot contain a lone UTF-16 surrogate (it is not valid Unicode text)');

/** One conversation: a channel, the direct conversation with a user, or the broadcasts (the extension's "Everyone"). */
const conversationSchema = z.union([
  z.object({ channel: channelNameSchema }).strict(),
  z.object({ with: usernameSchema }).strict(),
  z.object({ broadcasts: z.literal(true) }).strict(),
]);

/** An X25519 or Ed25519 public key: the 32 raw bytes in base64url, without padding (a JWK's `x`). */
export const publicKeySchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a public key is 32 bytes in base64url');

/** An IPv4 or IPv6 literal: the server hands out addresses, never names, so that nobody's client looks a name up for another. */
const ipSchema = z.string().refine((s) => z.ipv4().safeParse(s).success || z.ipv6().safeParse(s).success, 'an IP address is expected');

/** A session token (docs/protocol.md 6.11): 32 random bytes in base64url, without padding. */
export const sessionTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a session token is 43 characters of base64url');

/**
 * Protocol 1 sends { username, password }; protocol 2 may send { token } instead of the password, with or
 * without the username (when given, it must be the token's).
 */
const loginSchema = z
  .object({
    username: usernameSchema.optional(),
    password: passwordSchema.optional(),
    token: sessionTokenSchema.optional(),
  })
  .strict()
  .superRefine((login, ctx) => {
    if (login.password !== undefined && login.token !== undefined)
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'give a password or a token, not both' });
    else if (login.password === undefined && login.token === undefined)
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'a password (or, in protocol 2, a token) is required' });
    else if (login.password !== undefined && login.username === undefined)
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'a username is required' });
  });

/** A client-chosen id that makes a send idempotent across retries. */
const clientMsgIdSchema = z
  .string()
  .min(1)
  .max(LIMITS.clientMsgIdMax)
  .refine(withoutNul, 'a clientMsgId cannot contain the character U+0000 (NUL)')
  .refine(wellFormed, 'a clientMsgId cannot contain a lone UTF-16 surrogate (it is not valid Unicode text)')
  .optional();

/** Payload schemas of every client-to-server event; `.strict()` so that typos are reported, not ignored. */
export const requestSchemas = {
  login: loginSchema,
  whoelse: z.object({}).strict(),
  wholast: z
    .object({ minutes: z.number().int('minutes must be a whole number').min(1).max(59, 'minutes must be between 1 and 59') })
    .strict(),
  message: z.object({ to: usernameSchema, body: bodySchema, clientMsgId: clientMsgIdSchema }).strict(),
  broadcast: z
    .object({
      body: bodySchema,
      to: z
        .array(usernameSchema)
        .min(1, 'name at least one user')
        .max(LIMITS.broadcastRecipientsMax, `a broadcast names at most ${LIMITS.broadcastRecipientsMax} users`)
        .optional(),
      clientMsgId: clientMsgIdSchema,
    })
    .strict(),
  block: z.object({ username: usernameSchema }).strict(),
  unblock: z.object({ username: usernameSchema }).strict(),
  blocklist: z.object({}).strict(),
  users: z.object({}).strict(),
  received: z.object({ ids: z.array(z.number().int().positive()).min(1).max(LIMITS.receivedIdsMax) }).strict(),
  /** `channel` (protocol 3): that channel's messages, `before` being a seq; otherwise `before` is a message id. */
  history: z
    .object({
      with: usernameSchema.optional(),
      channel: channelNameSchema.optional(),
      before: z.number().int().positive().optional(),
      limit: z.number().int().min(1).max(LIMITS.historyPageMax).optional(),
    })
    .strict()
    .refine((h) => h.with === undefined || h.channel === undefined, { message: 'give "with" or "channel", not both', path: ['channel'] }),
  logout: z.object({}).strict(),
  /** Private chat (docs/private-chat.md): this session's peer listener and X25519 key, kept in memory only. */
  peer: z
    .object({
      /** Where peers connect; omitted when listening on every interface: the server then hands out the address it sees. */
      host: ipSchema.optional(),
      port: z.number().int().min(1).max(65535),
      publicKey: publicKeySchema,
      /** Users this client has a private chat with: the reply says which of them a block now stands between (missed while away). */
      partners: z.array(usernameSchema).max(LIMITS.privatePartnersMax, `at most ${LIMITS.privatePartnersMax} partners`).optional(),
    })
    .strict(),
  /** Asks for a user's peer address and a signed, single-use ticket to open a direct channel with them. */
  startprivate: z
    .object({
      username: usernameSchema,
      /** The requester's X25519 key for this chat: the ticket binds it, and the peer checks it against the one presented. */
      publicKey: publicKeySchema,
    })
    .strict(),
  // ---- protocol 3 (docs/protocol.md 10) ----
  /** Public channels, and the private ones this user is a member of. */
  channels: z.object({}).strict(),
  /** This user's channels, direct conversations and broadcasts, each with its read position and unread count. */
  conversations: z.object({}).strict(),
  createchannel: z.object({ name: channelNameSchema, private: z.boolean().optional(), topic: topicSchema.optional() }).strict(),
  join: z.object({ channel: channelNameSchema }).strict(),
  leave: z.object({ channel: channelNameSchema }).strict(),
  /** An empty topic clears it. */
  topic: z.object({ channel: channelNameSchema, topic: topicSchema }).strict(),
  /** A member adds a user (the way into a private channel). */
  invite: z.object({ channel: channelNameSchema, username: usernameSchema }).strict(),
  /** The creator removes a member. */
  kick: z.object({ channel: channelNameSchema, username: usernameSchema }).strict(),
  renamechannel: z.object({ channel: channelNameSchema, to: channelNameSchema }).strict(),
  deletechannel: z.object({ channel: channelNameSchema }).strict(),
  members: z.object({ channel: channelNameSchema }).strict(),
  /** A message to a channel's members. */
  post: z.object({ channel: channelNameSchema, body: bodySchema, clientMsgId: clientMsgIdSchema }).strict(),
  /**
   * Moves this user's read position in one conversation forward (never back) to `upTo`: a seq in a channel, a
   * message id otherwise. All the user's sessions are told (event `read`).
   */
  read: z.object({ conversation: conversationSchema, upTo: z.number().int().min(0) }).strict(),
  /** This session's user is away from it (true) or back (false); see docs/protocol.md 2.8. */
  status: z.object({ idle: z.boolean() }).strict(),
} as const;

/** Requests that a connection may send only from this protocol version on; older ones get BAD_REQUEST. */
export const REQUEST_SINCE: Partial<Record<keyof typeof requestSchemas, number>> = {
  channels: 3,
  conversations: 3,
  createchannel: 3,
  join: 3,
  leave: 3,
  topic: 3,
  invite: 3,
  kick: 3,
  renamechannel: 3,
  deletechannel: 3,
  members: 3,
  post: 3,
  read: 3,
  status: 3,
};

export type ConversationRef = z.infer<typeof conversationSchema>;

export type RequestName = keyof typeof requestSchemas;
export type RequestPayload<E extends RequestName> = z.infer<(typeof requestSchemas)[E]>;

export function isRequestName(name: string): name is RequestName {
  return Object.hasOwn(requestSchemas, name);
}
