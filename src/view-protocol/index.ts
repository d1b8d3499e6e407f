/** What the extension host and the chat webview share: their messages, the conversation model, and links. Imports neither. */
export * from './messages';
export * from './links';
