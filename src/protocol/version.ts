/** The protocol a client speaks, sent in the Socket.IO handshake as `auth.protocol`. */
export const PROTOCOL_VERSION = 2;

/** Versions this build of the server accepts: 2 added session tokens to `login` (docs/protocol.md 4.1). */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1, 2];

/** The first version whose `login` takes and issues session tokens. */
export const TOKEN_PROTOCOL_VERSION = 2;
