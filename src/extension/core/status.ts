import type { ChatState } from './chat-state';

/** The status bar item's words: short, always there, and telling the connection at a glance. */
export function statusText(state: ChatState): { text: string; tooltip: string } {
  const { connection } = state;
  switch (connection.phase) {
    case 'signed-out':
      return {
        text: '$(comment-discussion) Parley: offline',
        tooltip: connection.message ? `Parley: ${connection.message} Click to connect.` : 'Parley: not connected. Click to connect.',
      };
    case 'connecting':
      return { text: '$(sync~spin) Parley: connecting…', tooltip: `Parley: connecting to ${connection.url ?? 'the server'}` };
    case 'private-only':
      return {
        text: '$(lock) Parley: private chats only',
        tooltip: `Parley: ${connection.message ?? 'signed out; private chats stay open.'} Click to sign in again.`,
      };
    case 'reconnecting':
      return {
        text: '$(sync~spin) Parley: reconnecting…',
        tooltip: `Parley: ${connection.message ?? 'connection lost; reconnecting…'}`,
      };
    case 'signed-in': {
      const online = state.onlineCount();
      const unread = state.totalUnread;
      const parts = [`signed in as ${connection.username ?? state.me ?? '?'}`, `${online} online`];
      if (unread > 0) parts.push(`${unread} unread`);
      return {
        text: `$(comment-discussion) ${parts.join(' · ')}`,
        tooltip: `Parley: ${connection.url ?? ''} — click to open the chat`,
      };
    }
  }
}
