/** The protocol a client speaks, sent in the Socket.IO handshake as `auth.protocol`. */
export const PROTOCOL_VERSION = 3;

/**
 * Versions this build of the server accepts: 2 added session tokens to `login` (docs/protocol.md 4.1); 3 added
 * channels, read positions, mentions and the idle state (docs/protocol.md 10).
 */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1, 2, 3];

/** The first version whose `login` takes and issues session tokens. */
export const TOKEN_PROTOCOL_VERSION = 2;

/** The first version with channels, read positions, mentions and idle presence: only its connections get channel messages. */
export const CHANNELS_PROTOCOL_VERSION = 3;
