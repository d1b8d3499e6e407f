import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ClientOptions } from '../../client/parley-client';
import type { PrivateChannelsOptions } from '../../client/private-channels';
import { privateChatOptions } from '../core/private-settings';
import { trustedCaOptions } from '../core/tls-settings';

/** The session's options from the settings, read at each sign-in; a setting that cannot be used is logged and told. */

/** The CA to trust from the user's settings (never a workspace's). */
export function clientOptions(log: vscode.LogOutputChannel): ClientOptions {
  const setting = vscode.workspace.getConfiguration('parley').inspect<string>('tls.caFile');
  const { options, problems } = trustedCaOptions(setting, (path) => readFileSync(path, 'utf8'));
  warn(problems, log);
  return options;
}

/** The peer listener's interface and advertised address. */
export function peerOptions(log: vscode.LogOutputChannel): PrivateChannelsOptions {
  const config = vscode.workspace.getConfiguration('parley.privateChat');
  const { options, problems } = privateChatOptions({
    listenHost: config.get<string>('listenHost', ''),
    advertiseHost: config.get<string>('advertiseHost', ''),
  });
  warn(problems, log);
  return options;
}

function warn(problems: readonly string[], log: vscode.LogOutputChannel): void {
  for (const problem of problems) {
    log.warn(problem);
    void vscode.window.showWarningMessage(`Parley: ${problem}`);
  }
}
