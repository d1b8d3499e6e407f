import type { ClientOptions } from '../../client/parley-client';
import { errorMessage } from '../../protocol/errors';

/** `parley.tls.caFile` as VS Code's inspect() reports it, by where it is set. */
export interface CaFileSetting {
  globalValue?: string;
  workspaceValue?: string;
  workspaceFolderValue?: string;
}

/**
 * The client options for the CA the user trusts (a team server's own). Only the user's settings count:
 * a workspace that named a CA would let a cloned repository have the extension trust a server of its
 * choosing. The setting is machine-scoped for that reason; this check holds where that is not enforced.
 */
export function trustedCaOptions(
  setting: CaFileSetting | undefined,
  read: (path: string) => string,
): { options: ClientOptions; problems: string[] } {
  const problems: string[] = [];
  if (setting?.workspaceValue?.trim() || setting?.workspaceFolderValue?.trim()) {
    problems.push('The setting parley.tls.caFile is ignored in workspace settings: only your user settings may name a CA to trust.');
  }
  const path = setting?.globalValue?.trim() ?? '';
  if (path === '') return { options: {}, problems };
  try {
    return { options: { socket: { ca: read(path) } }, problems };
  } catch (err) {
    problems.push(`The CA certificate in parley.tls.caFile (${path}) cannot be read: ${errorMessage(err)}.`);
    return { options: {}, problems };
  }
}
