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
  /** Largest Socket.IO packet the server reads; anything bigger closes the connection. */
  packetBytesMax: 64 * 1024,
} as const;

export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/**
 * A UTF-16 surrogate without its pair cannot be written as UTF-8: the store would keep something else
 * (U+FFFD, or less), and two ids that differ only there would collide. No client that types text sends one.
 */
export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
