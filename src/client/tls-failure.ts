/**
 * Node's verdicts on a server certificate it does not trust. Said plainly, with the way out, since
 * socket.io reports every one of them as "websocket error".
 */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The certificate problem behind a failed connection (socket.io's error, its cause in `description.error`), if that was one. */
export function untrustedCertificate(url: string, err: unknown): string | undefined {
  const cause = (err as { description?: { error?: { code?: unknown; message?: unknown } } } | undefined)?.description?.error;
  if (typeof cause?.code !== 'string' || !UNTRUSTED.has(cause.code)) return undefined;
  return (
    `The server at ${url} presented a certificate this client does not trust (${String(cause.message)}). ` +
    `If the server uses a CA of its own, give that CA's certificate: --ca FILE for the terminal client, the setting parley.tls.caFile in VS Code.`
  );
}
