/**
 * The rule for cross-site connections, shared by the message center and the private-chat listener. A web
 * page can open a WebSocket to any address, 127.0.0.1 included, and browsers cannot be stopped from
 * doing so: but they always name the page in an `Origin` header, which Node clients never send. So a
 * handshake that carries one is refused unless that origin was allowed explicitly.
 *
 * Also the one reading of web addresses as origins: the allowed origins, and a server's address as the terminal
 * client and the extension take it.
 */

/** What engine.io's `allowRequest` sees of the HTTP request (an `IncomingMessage` is one). */
export interface HandshakeRequest {
  headers: { origin?: string | undefined };
  socket: { remoteAddress?: string | undefined };
}

/** engine.io's `allowRequest`: runs on the handshake's HTTP request, before a connection is allocated. */
export type AllowRequest = (request: HandshakeRequest, callback: (message: string | null | undefined, success: boolean) => void) => void;

/** An origin as browsers write it (`https://chat.example.org`, no path), or undefined when `text` is not an http(s) one. */
export function normalizeOrigin(text: string): string | undefined {
  return httpOrigin(text.trim());
}

/**
 * A server's address as a person types it (`192.168.1.20:4000`, `https://chat.example.org/`, `ws://host:4000`) as
 * an http(s) origin, or undefined: a bare `host:port` means http://, and ws(s):// is Socket.IO's http(s)://.
 */
export function normalizeServerAddress(text: string): string | undefined {
  const trimmed = text.trim();
  return httpOrigin(/^[a-z]+:\/\//i.test(trimmed) ? trimmed.replace(/^ws(s?):/i, 'http$1:') : `http://${trimmed}`);
}

function httpOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname ? url.origin : undefined;
}

/**
 * Refuses handshakes whose `Origin` is not one of `allowed` (normalised with `normalizeOrigin`); `explain`
 * says why, in the refusal's body. Throws when an allowed origin is not one.
 */
export function refuseForeignOrigins(allowed: readonly string[], explain: (origin: string) => string): AllowRequest {
  const origins = new Set(
    allowed.map((text) => {
      const origin = normalizeOrigin(text);
      if (!origin) throw new Error(`"${text}" is not a web origin such as https://chat.example.org`);
      return origin;
    }),
  );
  return (request, callback) => {
    const origin = request.headers.origin;
    if (origin === undefined || origins.has(origin)) callback(null, true);
    else callback(explain(origin), false);
  };
}
