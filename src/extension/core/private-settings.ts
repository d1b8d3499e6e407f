import { isIP } from 'node:net';
import type { PrivateChannelsOptions } from '../../client/private-channels';

/** The `parley.privateChat.*` settings, as VS Code hands them over (an empty string means "not set"). */
export interface PrivateChatSettings {
  /** The interface the peer listener binds (the terminal's --peer-host). */
  listenHost?: string;
  /** The address peers are told to dial, when it is not the one bound (a router's, say). */
  advertiseHost?: string;
}

/**
 * The peer listener options the settings ask for. An entry that is not an IP address is left out,
 * so that the default applies, and `problems` says why: names are never looked up for peers.
 */
export function privateChatOptions(settings: PrivateChatSettings): { options: PrivateChannelsOptions; problems: string[] } {
  const problems: string[] = [];
  const address = (key: keyof PrivateChatSettings, what: string): string | undefined => {
    const value = settings[key]?.trim() ?? '';
    if (value === '') return undefined;
    if (isIP(value) !== 0) return value;
    problems.push(`The setting parley.privateChat.${key} ("${value}") is not an IP address ${what}; the default is used instead.`);
    return undefined;
  };
  const host = address('listenHost', 'of this machine');
  const advertise = address('advertiseHost', 'for peers to dial');
  return {
    options: { ...(host !== undefined && { host }), ...(advertise !== undefined && { advertise: { host: advertise } }) },
    problems,
  };
}
