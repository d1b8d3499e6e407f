/**
 * The message center, bundled apart from the extension (dist/extension-server.js) so that activation
 * does not load Socket.IO's server or SQLite: the extension requires this file only when the user
 * starts a local server.
 */
export { createParleyServer } from '../server/server';
