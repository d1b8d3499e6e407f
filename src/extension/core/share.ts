import { LIMITS } from '../../protocol/limits';
import { locationHref } from '../../view-protocol';

export interface SharedSelection {
  /** Workspace-relative path with forward slashes. */
  path: string;
  /** 1-based, inclusive. */
  startLine: number;
  endLine: number;
  languageId: string;
  code: string;
}

/**
 * The message "Share Selection to Chat" sends: a link to the place (which opens it when clicked in
 * the chat view) and the code as a fenced block, fenced with more backticks than the code holds.
 */
export function shareBody(selection: SharedSelection): string {
  const { path, startLine, endLine } = selection;
  const label = endLine > startLine ? `${path}:${startLine}-${endLine}` : `${path}:${startLine}`;
  const longest = Math.max(0, ...[...selection.code.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const info = /^[A-Za-z0-9_+-]+$/.test(selection.languageId) ? selection.languageId : '';
  const code = selection.code.replace(/\s+$/, '');
  return `[${label}](${locationHref(path, startLine, endLine)})\n${fence}${info}\n${code}\n${fence}`;
}

export function shareTooLong(body: string): string | undefined {
  if (body.length <= LIMITS.messageMax) return undefined;
  return `The selection is too long to share: a message has at most ${LIMITS.messageMax} characters (this one would have ${body.length}). Select less.`;
}
