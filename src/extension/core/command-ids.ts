import { COMMANDS, type CommandForm, type CommandSpec, type PaletteEntry } from '../../protocol/commands';
import type { PrivateState } from '../../view-protocol';
import type { Person } from './chat-state';

/** The extension's own commands (the chat commands' come from the command table), with their palette titles. */
export const EDITOR_COMMANDS = {
  connect: { id: 'parley.connect', title: 'Connect to Server…' },
  signOut: { id: 'parley.signOut', title: 'Sign Out' },
  startLocalServer: { id: 'parley.startLocalServer', title: 'Start Local Server' },
  stopLocalServer: { id: 'parley.stopLocalServer', title: 'Stop Local Server' },
  copyJoinAddress: { id: 'parley.copyJoinAddress', title: 'Copy Join Address' },
  addLocalUser: { id: 'parley.addLocalUser', title: 'Add User to Local Server…' },
  shareSelection: { id: 'parley.shareSelection', title: 'Share Selection to Chat' },
  showLog: { id: 'parley.showLog', title: 'Show Log' },
  openChat: { id: 'parley.openChat', title: 'Open Chat' },
  openChatInEditor: { id: 'parley.openChatInEditor', title: 'Open Chat in Editor Tab' },
  refreshPeople: { id: 'parley.refreshPeople', title: 'Refresh People' },
  goToConversation: { id: 'parley.goToConversation', title: 'Go to Conversation…' },
  joinChannel: { id: 'parley.joinChannel', title: 'Join Channel…' },
  createChannel: { id: 'parley.createChannel', title: 'Create Channel…' },
  // The people view's click and context menu: it opens the conversation, so it is not the message command.
  messagePerson: { id: 'parley.messagePerson', title: 'Message', contextOnly: true },
} as const satisfies Record<string, PaletteEntry>;

export type EditorCommand = keyof typeof EDITOR_COMMANDS;

/** A chat command's palette entry, with the command and the form it runs. */
export interface ChatPaletteEntry {
  spec: CommandSpec;
  form: CommandForm;
  entry: PaletteEntry;
}

export const CHAT_PALETTE: readonly ChatPaletteEntry[] = COMMANDS.flatMap((spec) =>
  spec.forms.flatMap((form) => (form.palette ?? []).map((entry) => ({ spec, form, entry }))),
);

/**
 * Every command the extension registers: package.json's contributes.commands must match this list, and
 * hide from the palette exactly those that are context only (a test checks both).
 */
export const CONTRIBUTED: readonly PaletteEntry[] = [...Object.values(EDITOR_COMMANDS), ...CHAT_PALETTE.map((c) => c.entry)];

/**
 * The people view's context value, for its menus (package.json's view/item/context): `person-blocked`,
 * or `person` with `-online` when a private chat can be started and `-private` when one is open or opening.
 */
export function personContext(person: Pick<Person, 'online' | 'blocked'>, secret: PrivateState): string {
  if (person.blocked) return 'person-blocked';
  return `person${person.online ? '-online' : ''}${secret === 'closed' ? '' : '-private'}`;
}
