/**
 * The message center, bundled apart from the extension (dist/extension-server.js) so that activation
 * does not load Socket.IO's server or SQLite: the extension requires this file only when the user
 * starts a local server.
 */
export { createParleyServer } from '../server/server';
// The only door from the extension into the server: the rest of the extension takes the server's types from here.
export type { Logger } from '../server/log';
export type { ServerOptions } from '../server/options';
export type { ParleyServer } from '../server/server';
