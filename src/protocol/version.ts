/** The protocol a client speaks, sent in the Socket.IO handshake as `auth.protocol`. */
export const PROTOCOL_VERSION = 1;

/** Versions this build of the server accepts. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [1];
