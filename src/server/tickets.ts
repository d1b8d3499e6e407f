import { generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { encodeTicket, type TicketPayload } from '../protocol';
import type { Clock } from './clock';

/**
 * Signs private-chat tickets with an Ed25519 key made when the server starts and never stored: a
 * restart invalidates every outstanding ticket, which is what a 60-second, single-use token wants.
 * Clients learn the public half from the reply to `peer` and check tickets with it offline.
 */
export class TicketIssuer {
  /** The public key as base64url raw bytes (the JWK `x`), as sent to clients. */
  readonly publicKey: string;
  private readonly privateKey: KeyObject;

  constructor(
    private readonly clock: Clock,
    readonly ttlMs: number,
  ) {
    const pair = generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey.export({ format: 'jwk' }).x!;
  }

  issue(fields: Pick<TicketPayload, 'from' | 'to' | 'fromKey' | 'toKey'>): { ticket: string; expiresAt: number } {
    const iat = this.clock();
    const payload: TicketPayload = { v: 1, ...fields, iat, exp: iat + this.ttlMs, nonce: randomBytes(16).toString('base64url') };
    return { ticket: encodeTicket(payload, (input) => sign(null, input, this.privateKey)), expiresAt: payload.exp };
  }
}
