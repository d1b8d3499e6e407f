/** Accepts host:port, http(s):// and ws(s):// addresses; returns the http(s) form, or undefined. */
export function normalizeUrl(value: string): string | undefined {
  let text = value.trim();
  if (!text) return undefined;
  if (!/^[a-z]+:\/\//i.test(text)) text = `http://${text}`;
  try {
    const url = new URL(text);
    if (url.protocol === 'ws:') url.protocol = 'http:';
    if (url.protocol === 'wss:') url.protocol = 'https:';
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    if (!url.hostname) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}
