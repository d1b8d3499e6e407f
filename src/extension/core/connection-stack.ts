/**
 * What a session needs only once it connects: Socket.IO's client, private chat and the protocol's schemas
 * (zod). ChatSession imports this at its first connect, so that activation and the first view load none of it.
 */
export { ParleyClient } from '../../client/parley-client';
export { PrivateChannels } from '../../client/private-channels';
