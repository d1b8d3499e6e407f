import { BlockList, isIP } from 'node:net';

/**
 * Where a connection really comes from. Behind a reverse proxy every socket's peer is the proxy, so
 * lockout, the per-address cap and private chat would see one address for everybody; a proxy that is
 * trusted tells the client's own in X-Forwarded-For. Anyone else could write that header, so it is
 * read only from the addresses given with --trust-proxy.
 */
export class ClientAddresses {
  private readonly trusted = new BlockList();

  /** `proxies`: IP addresses (not names) whose X-Forwarded-For is believed. */
  constructor(readonly proxies: readonly string[] = []) {
    for (const proxy of proxies) {
      const family = isIP(proxy);
      if (family === 0) throw new Error(`--trust-proxy takes IP addresses, not "${proxy}"`);
      this.trusted.addAddress(proxy, family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /**
   * The client's address: the socket's peer, or, when that is a trusted proxy, the nearest address in
   * X-Forwarded-For that is not one of ours (each proxy appends the one it saw, so the right end is the
   * most trustworthy and anything left of an untrusted hop may be forged). A missing or malformed
   * header leaves the proxy's own address, which only makes the proxy's clients share a lockout.
   */
  resolve(peer: string, forwardedFor: string | string[] | undefined): string {
    if (!this.isTrusted(peer) || forwardedFor === undefined) return peer;
    const hops = [forwardedFor]
      .flat()
      .join(',')
      .split(',')
      .map((hop) => hop.trim());
    let client = peer;
    for (const hop of hops.reverse()) {
      if (isIP(hop) === 0) return client;
      client = hop;
      if (!this.isTrusted(hop)) return hop;
    }
    return client;
  }

  /** True for one of the proxies given with --trust-proxy. */
  isTrusted(address: string): boolean {
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && this.trusted.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** `::ffff:10.0.0.5` → `10.0.0.5`: an IPv4 client on a dual-stack socket, as another IPv4 client must dial it. */
export function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice('::ffff:'.length) : address;
}

/** True for an address only this machine can reach (127.0.0.0/8, ::1): listening there needs no TLS. */
export function isLoopback(address: string): boolean {
  const plain = unmapped(address);
  return isIP(plain) === 4 ? plain.startsWith('127.') : plain === '::1';
}
