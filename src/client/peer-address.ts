import { isIP } from 'node:net';

/**
 * Where to listen, and what to tell the message center. Default: loopback when the message center's
 * URL is loopback (a local server means local peers), else every interface, and then no address is
 * advertised: the server hands out the one it sees this client connect from.
 */
export function listenAddress(serverUrl: string, chosen?: string, advertise?: string): { bind: string; advertise: string | undefined } {
  if (chosen !== undefined) {
    const specific = chosen !== '0.0.0.0' && chosen !== '::' && isIP(chosen) !== 0;
    return { bind: chosen, advertise: advertise ?? (specific ? chosen : undefined) };
  }
  const server = new URL(serverUrl).hostname.replace(/^\[|\]$/g, '');
  if (server === '::1') return { bind: '::1', advertise: advertise ?? '::1' };
  if (server === 'localhost' || /^127\./.test(server)) return { bind: '127.0.0.1', advertise: advertise ?? '127.0.0.1' };
  return { bind: isIP(server) === 6 ? '::' : '0.0.0.0', advertise };
}
