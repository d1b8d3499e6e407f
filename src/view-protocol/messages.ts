import * as z from 'zod/mini';
import { describeIssues } from '../protocol/issues';
import { CHANNEL_PATTERN, LIMITS } from '../protocol/limits';

/**
 * The messages between the extension host and the chat webview, both directions, with the zod
 * schemas each side checks on receipt. This file is bundled into the webview too: it imports no
 * Node module and nothing from the extension host.
 */

/**
 * 'everyone' for broadcasts, `dm:<username>` for a direct conversation through the server,
 * `private:<username>` for a private (peer-to-peer, encrypted, never stored) chat.
 */
export const conversationIdSchema = z
  .string()
  .check(z.maxLength(LIMITS.usernameMax + 8), z.regex(/^(everyone|dm:[A-Za-z0-9_.-]+|private:[A-Za-z0-9_.-]+|channel:[a-z0-9-]{1,32})$/));

const usernameText = z.string().check(z.minLength(1), z.maxLength(LIMITS.usernameMax));
const text = (max: number) => z.string().check(z.maxLength(max));
const count = () => z.int().check(z.nonnegative());

export const chatMessageSchema = z.strictObject({
  id: z.int().check(z.positive()),
  from: usernameText,
  to: z.nullable(usernameText),
  /** `private`: sent over a direct channel; its id is local to the conversation, it was never on the server. */
  kind: z.enum(['direct', 'broadcast', 'private', 'channel']),
  body: text(LIMITS.messageMax),
  sentAt: z.number(),
  channel: z.optional(z.string().check(z.regex(CHANNEL_PATTERN))),
  seq: z.optional(count()),
  mentions: z.optional(z.array(usernameText).check(z.maxLength(LIMITS.messageMax))),
});
/** A message as the views show it: a ChatMessage from the server, or a private one kept in memory only. */
export type ShownMessage = z.infer<typeof chatMessageSchema>;

/** Where an item sorts in a conversation: a message is [id, 0], a notice [id of the message before it, n >= 1]. */
export const itemKeySchema = z.tuple([count(), count()]);
export type ItemKey = z.infer<typeof itemKeySchema>;

export const noticeToneSchema = z.enum(['presence', 'info', 'error']);

export const timelineItemSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('message'), key: itemKeySchema, message: chatMessageSchema }),
  z.strictObject({ kind: z.literal('notice'), key: itemKeySchema, at: z.number(), text: text(8000), tone: noticeToneSchema }),
]);
export type TimelineItem = z.infer<typeof timelineItemSchema>;
export type NoticeTone = z.infer<typeof noticeToneSchema>;

/** A private chat's channel: being opened, open (direct, encrypted), or closed. */
export const privateStateSchema = z.enum(['connecting', 'direct', 'closed']);
export type PrivateState = z.infer<typeof privateStateSchema>;

export const conversationSummarySchema = z.strictObject({
  id: conversationIdSchema,
  title: text(64),
  kind: z.enum(['everyone', 'direct', 'private', 'channel']),
  unread: count(),
  online: z.boolean(),
  blocked: z.boolean(),
  /** Private conversations only: the channel's state. */
  privateState: z.optional(privateStateSchema),
  /** Channels: unread messages that mention the user, the topic, and whether only members may see it. */
  mentions: z.optional(count()),
  topic: z.optional(text(LIMITS.channelTopicMax)),
  privateChannel: z.optional(z.boolean()),
  /** Direct conversations: the person is online but idle. */
  idle: z.optional(z.boolean()),
});
export type ConversationSummary = z.infer<typeof conversationSummarySchema>;

/** `private-only`: the server session ended, but private chats (which need no server) are still open. */
export const connectionPhaseSchema = z.enum(['signed-out', 'connecting', 'signed-in', 'reconnecting', 'private-only']);
export type ConnectionPhase = z.infer<typeof connectionPhaseSchema>;

export const connectionViewSchema = z.strictObject({
  phase: connectionPhaseSchema,
  username: z.optional(usernameText),
  url: z.optional(text(2048)),
  /** Why the session ended or what is wrong, in words for people. */
  message: z.optional(text(2000)),
});
export type ConnectionView = z.infer<typeof connectionViewSchema>;

const MAX_ITEMS = 20_000;
const itemsSchema = z.array(timelineItemSchema).check(z.maxLength(MAX_ITEMS));
const usernamesSchema = z.array(usernameText).check(z.maxLength(10_000));
const conversationsSchema = z.array(conversationSummarySchema).check(z.maxLength(10_000));

export const hostToWebviewSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('snapshot'),
    me: z.optional(usernameText),
    connection: connectionViewSchema,
    conversations: conversationsSchema,
    active: conversationIdSchema,
    items: itemsSchema,
    hasOlder: z.boolean(),
    usernames: usernamesSchema,
    firstUnread: z.optional(itemKeySchema),
  }),
  z.strictObject({ type: z.literal('connection'), me: z.optional(usernameText), connection: connectionViewSchema }),
  z.strictObject({ type: z.literal('conversations'), conversations: conversationsSchema }),
  /** Replaces what the webview shows for a conversation (after a switch). */
  z.strictObject({
    type: z.literal('timeline'),
    conversation: conversationIdSchema,
    items: itemsSchema,
    hasOlder: z.boolean(),
    /** Where the "new since you last read" line goes: before the item with this key. */
    firstUnread: z.optional(itemKeySchema),
  }),
  /** Items to merge into a conversation; `live` ones just arrived (announced and scrolled to). */
  z.strictObject({
    type: z.literal('items'),
    conversation: conversationIdSchema,
    items: itemsSchema,
    hasOlder: z.optional(z.boolean()),
    live: z.boolean(),
  }),
  z.strictObject({ type: z.literal('usernames'), usernames: usernamesSchema }),
  /** The answer to a `send`: the draft is kept on failure; `open` switches to where the message went. */
  z.strictObject({
    type: z.literal('sendResult'),
    requestId: count(),
    ok: z.boolean(),
    error: z.optional(text(2000)),
    open: z.optional(conversationIdSchema),
  }),
  z.strictObject({
    type: z.literal('focusComposer'),
    conversation: z.optional(conversationIdSchema),
    text: z.optional(text(LIMITS.messageMax)),
  }),
]);
export type HostToWebview = z.infer<typeof hostToWebviewSchema>;

/** Host actions a button in the webview may ask for (the signed-out screen, the banner). */
export const HOST_ACTIONS = ['connect', 'startLocalServer', 'signOut', 'reconnect', 'showLog'] as const;
export type HostAction = (typeof HOST_ACTIONS)[number];

export const webviewToHostSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), active: z.optional(conversationIdSchema) }),
  z.strictObject({ type: z.literal('select'), conversation: conversationIdSchema }),
  z.strictObject({
    type: z.literal('send'),
    requestId: count(),
    conversation: conversationIdSchema,
    text: z.string().check(z.minLength(1), z.maxLength(LIMITS.messageMax + 100)),
  }),
  z.strictObject({ type: z.literal('loadOlder'), conversation: conversationIdSchema, before: z.optional(itemKeySchema) }),
  z.strictObject({ type: z.literal('openLink'), href: z.string().check(z.minLength(1), z.maxLength(4096)) }),
  z.strictObject({ type: z.literal('action'), action: z.enum(HOST_ACTIONS) }),
  /** The user typed or clicked in the view (at most every few seconds): they are at the editor. */
  z.strictObject({ type: z.literal('active') }),
]);
export type WebviewToHost = z.infer<typeof webviewToHostSchema>;

export type Parsed<T> = { ok: true; message: T } | { ok: false; error: string };

/** Checks what the host received from a webview; anything malformed is refused with a reason. */
export function parseWebviewMessage(data: unknown): Parsed<WebviewToHost> {
  const result = webviewToHostSchema.safeParse(data);
  return result.success ? { ok: true, message: result.data } : { ok: false, error: describeIssues(result.error) };
}

/** Checks what the webview received from the host. */
export function parseHostMessage(data: unknown): Parsed<HostToWebview> {
  const result = hostToWebviewSchema.safeParse(data);
  return result.success ? { ok: true, message: result.data } : { ok: false, error: describeIssues(result.error) };
}

/** Compares two item keys: negative when `a` sorts first. */
export function compareKeys(a: ItemKey, b: ItemKey): number {
  return a[0] - b[0] || a[1] - b[1];
}

export const EVERYONE = 'everyone';

export function directId(username: string): string {
  return `dm:${username}`;
}

/** The other user of a direct conversation id, or undefined for Everyone (and private chats). */
export function partnerOf(conversation: string): string | undefined {
  return conversation.startsWith('dm:') ? conversation.slice(3) : undefined;
}

export function privateId(username: string): string {
  return `private:${username}`;
}

/** The other user of a private conversation id, or undefined for any other conversation. */
export function privatePartnerOf(conversation: string): string | undefined {
  return conversation.startsWith('private:') ? conversation.slice(8) : undefined;
}

export function channelId(name: string): string {
  return `channel:${name}`;
}

/** The channel (name without `#`) of a channel conversation id, or undefined for any other conversation. */
export function channelOf(conversation: string): string | undefined {
  return conversation.startsWith('channel:') ? conversation.slice(8) : undefined;
}
