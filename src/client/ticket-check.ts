import type { KeyObject } from 'node:crypto';
import { peerHandshakeSchema, type PeerRefusal, type TicketPayload } from '../protocol';
import { verifyTicket } from './private-crypto';

/** Who this client is to the message center now: what an incoming ticket must name. */
export interface TicketIdentity {
  username: string;
  /** This session's X25519 public key (base64url). */
  publicKey: string;
  /** The Ed25519 keys whose tickets are accepted: the message center's, or in a cluster every live node's (`peer`, `ticketKeys`). */
  ticketKeys: readonly KeyObject[];
  /** Server time minus local time when registered, so that expiry is judged on the server's clock. */
  offsetMs: number;
  /** The longest a ticket lives, from the `peer` reply: how long a revocation must be remembered. */
  ticketTtlMs: number;
}

export type TicketCheck =
  { ok: true; ticket: string; payload: TicketPayload; peerKey: string } | { ok: false; code: PeerRefusal; claimed?: string };

/**
 * Decides whether a connection to the peer listener may go on, before a byte of chat is exchanged:
 * the ticket must be signed by the message center, name this user and this session's key, bind the
 * key the caller presents, be within its lifetime, predate no block between the two, and be new.
 * A nonce is remembered until its ticket expires, which is what makes a ticket single-use.
 */
export class TicketChecker {
  private identity: TicketIdentity | undefined;
  private readonly used = new Map<string, number>();
  private readonly revokedAt = new Map<string, number>();
  /** The latest server time this client has judged a ticket at. */
  private latest = 0;

  constructor(
    private readonly clock: () => number,
    private readonly skewMs: number,
  ) {}

  setIdentity(identity: TicketIdentity | undefined): void {
    this.identity = identity;
  }

  /** A cluster's nodes changed: tickets signed with any of `keys`, and only those, are accepted from now on. */
  setTicketKeys(keys: readonly KeyObject[]): void {
    if (this.identity) this.identity = { ...this.identity, ticketKeys: keys };
  }

  /** The two users blocked each other at server time `at`: tickets between them issued until then are void. */
  revoke(username: string, at: number): void {
    this.revokedAt.set(username, Math.max(at, this.revokedAt.get(username) ?? 0));
  }

  /**
   * The message center's time now, as well as this client can tell, and never earlier than before: a
   * clock step back, or a new offset after the server's clock stepped back, must not make a ticket whose
   * nonce was already forgotten (being expired) valid again.
   */
  serverNow(): number {
    this.latest = Math.max(this.latest, this.clock() + (this.identity?.offsetMs ?? 0));
    return this.latest;
  }

  check(auth: unknown): TicketCheck {
    const handshake = peerHandshakeSchema.safeParse(auth);
    if (!handshake.success) return { ok: false, code: 'BAD_HANDSHAKE' };
    const { ticket, publicKey } = handshake.data;
    const me = this.identity;
    if (!me) return { ok: false, code: 'NOT_READY' };
    const payload = verifyTicket(ticket, me.ticketKeys);
    if (!payload) return { ok: false, code: 'BAD_TICKET' };
    const claimed = payload.from;
    const refuse = (code: PeerRefusal): TicketCheck => ({ ok: false, code, claimed });
    if (payload.to !== me.username) return refuse('WRONG_RECIPIENT');
    if (payload.toKey !== me.publicKey) return refuse('STALE_KEY');
    if (payload.fromKey !== publicKey) return refuse('KEY_MISMATCH');
    const now = this.serverNow();
    this.prune(now);
    if (now > payload.exp + this.skewMs) return refuse('EXPIRED');
    if (payload.iat > now + this.skewMs) return refuse('NOT_YET_VALID');
    if (payload.iat <= (this.revokedAt.get(payload.from) ?? -1)) return refuse('REVOKED');
    if (this.used.has(payload.nonce)) return refuse('REPLAYED');
    this.used.set(payload.nonce, payload.exp);
    return { ok: true, ticket, payload, peerKey: publicKey };
  }

  /** Forgets everything: a new sign-in starts with a new key, which no old ticket names. */
  reset(): void {
    this.identity = undefined;
    this.latest = 0;
    this.used.clear();
    this.revokedAt.clear();
  }

  private prune(now: number): void {
    for (const [nonce, exp] of this.used) if (exp + this.skewMs < now) this.used.delete(nonce);
    // A revocation matters only while tickets issued before it can still be valid.
    const ttl = this.identity?.ticketTtlMs ?? 0;
    for (const [user, at] of this.revokedAt) if (at + ttl + this.skewMs < now) this.revokedAt.delete(user);
  }
}
