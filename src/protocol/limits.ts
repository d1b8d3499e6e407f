/** Limits shared by server and clients so that a client can refuse early with the same words. */
export const LIMITS = {
  usernameMax: 32,
  passwordMax: 256,
  messageMax: 4000,
  broadcastRecipientsMax: 100,
  receivedIdsMax: 1000,
  historyPageMax: 100,
  clientMsgIdMax: 64,
  /** Users a `peer` registration may ask about (those this client has an open private chat with). */
  privatePartnersMax: 100,
  /** Frames a private chat's peer may send at once, and per second after that: more ends the chat (a flood, not a person typing). */
  privateFramesBurst: 30,
  privateFramesPerSecond: 10,
  /** Ticket keys a client takes from a cluster (one per live node): more is a broken or hostile server. */
  ticketKeysMax: 64,
  channelNameMax: 32,
  channelTopicMax: 250,
  /** Channels one user may create at once, then one per `channelCreateEverySeconds` (protocol 3). */
  channelCreateBurst: 5,
  channelCreateEverySeconds: 60,
  /** Channel changes (`topic`, `join`, `leave`, `renamechannel`, `invite`, `kick`) one user may make at once, then one per `channelChangeEverySeconds`. */
  channelChangeBurst: 10,
  channelChangeEverySeconds: 3,
  /** Largest Socket.IO packet the server reads; anything bigger closes the connection. */
  packetBytesMax: 64 * 1024,
} as const;

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** A channel's name on the wire, without its `#`: lowercase letters, digits and `-`, 1 to 32 of them. */
export const CHANNEL_PATTERN = /^[a-z0-9-]{1,32}$/;

/** The channel that exists on every server, with every user a member who cannot leave it. */
export const GENERAL_CHANNEL = 'general';

/** `@name` in a channel message mentions the member of that name; names match as accounts do, case and all. */
export const MENTION_PATTERN = /(?<![A-Za-z0-9_.-])@([A-Za-z0-9_.-]+)/g;

/**
 * A UTF-16 surrogate without its pair cannot be written as UTF-8: the store would keep something else
 * (U+FFFD, or less), and two ids that differ only there would collide. No client that types text sends one.
 */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** usernameSchema's rule as a yes or no, for a UI that would rather not load zod to ask. */
export function isUsername(name: string): boolean {
  return name.length <= LIMITS.usernameMax && USERNAME_PATTERN.test(name);
}

/** CHANNEL_PATTERN as a yes or no, likewise. */
export function isChannelName(name: string): boolean {
  return CHANNEL_PATTERN.test(name);
}
