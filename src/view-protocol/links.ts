/**
 * Which links a chat message may hold, shared by the webview (what markdown renders as a link) and
 * the extension host (what a click opens). Web links open in the browser; a workspace location
 * (`src/app.ts#L12-L18`, made by "Share Selection to Chat") opens in the editor; nothing else does.
 */

export type LinkTarget =
  | { kind: 'external'; url: string }
  | { kind: 'location'; path: string; line: number; endLine: number }
  | { kind: 'refused'; reason: string };

const LOCATION = /^((?:[^\s#?:\\]+\/)*[^\s#?:\\/]+)#L(\d{1,7})(?:-L(\d{1,7}))?$/;

/** Parses a workspace location link; refuses absolute paths, `..` segments and anything with a scheme. */
export function parseLocation(href: string): { path: string; line: number; endLine: number } | undefined {
  const match = LOCATION.exec(href);
  if (!match) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
  const segments = path.split('/');
  if (path.startsWith('/') || segments.some((s) => s === '..' || s === '.' || s === '' || s.includes('\\') || s.includes(':')))
    return undefined;
  const line = Number(match[2]);
  const endLine = match[3] === undefined ? line : Number(match[3]);
  if (line < 1 || endLine < line) return undefined;
  return { path, line, endLine };
}

export function classifyLink(href: string): LinkTarget {
  const trimmed = href.trim();
  const location = parseLocation(trimmed);
  if (location) return { kind: 'location', ...location };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { kind: 'refused', reason: 'not a web address or a workspace location' };
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return { kind: 'external', url: url.href };
  return { kind: 'refused', reason: `links with ${url.protocol} are not opened` };
}

/** What markdown may render as a link: http(s), mailto is not (it would leave the editor silently), locations. */
export function isAllowedHref(href: string): boolean {
  return classifyLink(href).kind !== 'refused';
}

export function locationHref(path: string, line: number, endLine: number): string {
  const encoded = path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
  return endLine > line ? `${encoded}#L${line}-L${endLine}` : `${encoded}#L${line}`;
}
