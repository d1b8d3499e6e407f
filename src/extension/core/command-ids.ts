import type { PrivateState } from '../../view-protocol';
import type { Person } from './chat-state';

/**
 * Every command the extension contributes, with its palette title. package.json's contributes.commands
 * must match this list (a test checks it), and the extension registers exactly these.
 */
export const COMMANDS = {
  connect: { id: 'parley.connect', title: 'Connect to Server…' },
  signOut: { id: 'parley.signOut', title: 'Sign Out' },
  whoElse: { id: 'parley.whoElse', title: 'Who Else Is Online' },
  whoLast: { id: 'parley.whoLast', title: 'Who Was Online Recently…' },
  broadcast: { id: 'parley.broadcast', title: 'Broadcast Message…' },
  broadcastToUsers: { id: 'parley.broadcastToUsers', title: 'Broadcast to Users…' },
  sendMessage: { id: 'parley.sendMessage', title: 'Send Message to User…' },
  block: { id: 'parley.block', title: 'Block User…' },
  unblock: { id: 'parley.unblock', title: 'Unblock User…' },
  startLocalServer: { id: 'parley.startLocalServer', title: 'Start Local Server' },
  stopLocalServer: { id: 'parley.stopLocalServer', title: 'Stop Local Server' },
  copyJoinAddress: { id: 'parley.copyJoinAddress', title: 'Copy Join Address' },
  addLocalUser: { id: 'parley.addLocalUser', title: 'Add User to Local Server…' },
  shareSelection: { id: 'parley.shareSelection', title: 'Share Selection to Chat' },
  showLog: { id: 'parley.showLog', title: 'Show Log' },
  openChat: { id: 'parley.openChat', title: 'Open Chat' },
  openChatInEditor: { id: 'parley.openChatInEditor', title: 'Open Chat in Editor Tab' },
  refreshPeople: { id: 'parley.refreshPeople', title: 'Refresh People' },
  startPrivateChat: { id: 'parley.startPrivateChat', title: 'Start Private Chat…' },
  stopPrivateChat: { id: 'parley.stopPrivateChat', title: 'Stop Private Chat' },
  // Context menu of the people view (hidden from the palette).
  messagePerson: { id: 'parley.messagePerson', title: 'Message' },
  blockPerson: { id: 'parley.blockPerson', title: 'Block' },
  unblockPerson: { id: 'parley.unblockPerson', title: 'Unblock' },
} as const;

export type CommandKey = keyof typeof COMMANDS;

/** Commands that only make sense with an argument (a person from the tree): hidden from the palette. */
export const CONTEXT_ONLY: readonly CommandKey[] = ['messagePerson', 'blockPerson', 'unblockPerson'];

export const VIEW_IDS = { container: 'parley', chat: 'parley.chat', people: 'parley.people', panel: 'parley.chatPanel' } as const;

/**
 * The people view's context value, for its menus (package.json's view/item/context): `person-blocked`,
 * or `person` with `-online` when a private chat can be started and `-private` when one is open or opening.
 */
export function personContext(person: Pick<Person, 'online' | 'blocked'>, secret: PrivateState): string {
  if (person.blocked) return 'person-blocked';
  return `person${person.online ? '-online' : ''}${secret === 'closed' ? '' : '-private'}`;
}
