import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  verify,
  type KeyObject,
} from 'node:crypto';
import {
  PRIVATE_PROTOCOL,
  decodeTicket,
  peerPlaintextSchema,
  ticketSigningInput,
  type PeerFrame,
  type PeerPlaintext,
  type TicketPayload,
} from '../protocol';

/**
 * The cryptography of private chat, all from node:crypto, and nothing else in the client touches keys:
 *   - each session holds an ephemeral X25519 key pair;
 *   - the message center signs tickets with Ed25519, checked here with its public key;
 *   - channel keys: HKDF-SHA256 over the X25519 shared secret, salted with the ticket nonce, one key per direction;
 *   - frames: AES-256-GCM, the nonce a per-direction counter that must arrive in order.
 * docs/private-chat.md has the whole construction.
 */

export interface PeerKeyPair {
  /** The 32 raw public bytes in base64url, as the server and the peer see it. */
  publicKey: string;
  privateKey: KeyObject;
}

export function generatePeerKeys(): PeerKeyPair {
  const pair = generateKeyPairSync('x25519');
  return { publicKey: pair.publicKey.export({ format: 'jwk' }).x!, privateKey: pair.privateKey };
}

/** The message center's ticket key, from the base64url form the `peer` reply carries. */
export function importTicketKey(x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/**
 * The payload of a ticket signed with one of `ticketKeys` (the message center's, or in a cluster any live node's); undefined when
 * malformed or forged.
 */
export function verifyTicket(ticket: string, ticketKeys: KeyObject | readonly KeyObject[]): TicketPayload | undefined {
  const decoded = decodeTicket(ticket);
  if (!decoded) return undefined;
  const input = ticketSigningInput(decoded.encoded);
  return [ticketKeys].flat().some((key) => verify(null, input, key, decoded.signature)) ? decoded.payload : undefined;
}

export type ChannelRole = 'initiator' | 'responder';

export interface ChannelKeys {
  send: Buffer;
  receive: Buffer;
  /**
   * Twelve digits both ends derive from the same secret: equal on both screens only if nobody (a
   * message center vouching for keys of its own, say) sits between the two. Read out to compare.
   */
  safetyCode: string;
}

/**
 * The two AEAD keys of one channel. The shared secret is the same for every channel between two
 * sessions, so the ticket's nonce salts it, and a hash of the whole ticket in `info` binds the keys to
 * the users and keys the server vouched for. The initiator is the ticket's `from`.
 */
export function channelKeys(own: PeerKeyPair, peerPublicKey: string, ticket: string, nonce: string, role: ChannelRole): ChannelKeys {
  const peerKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerPublicKey }, format: 'jwk' });
  // OpenSSL refuses an all-zero result (a low-order peer key) by throwing; the check below says why if it ever does not.
  const shared = diffieHellman({ privateKey: own.privateKey, publicKey: peerKey });
  if (shared.every((b) => b === 0)) throw new Error('the peer key is not a valid X25519 key');
  const salt = Buffer.from(nonce, 'base64url');
  const transcript = createHash('sha256').update(ticket, 'utf8').digest();
  const derive = (direction: string): Buffer =>
    Buffer.from(hkdfSync('sha256', shared, salt, Buffer.concat([Buffer.from(`${PRIVATE_PROTOCOL} ${direction}\0`), transcript]), 32));
  const out = derive('initiator->responder');
  const back = derive('responder->initiator');
  const safetyCode = formatSafetyCode(derive('safety code'));
  return role === 'initiator' ? { send: out, receive: back, safetyCode } : { send: back, receive: out, safetyCode };
}

/** 48 bits of `bytes` as twelve decimal digits in groups of four ("0421 9387 1650"); the modulo's bias is under 0.4%. */
function formatSafetyCode(bytes: Buffer): string {
  const digits = (bytes.readUIntBE(0, 6) % 1e12).toString().padStart(12, '0');
  return `${digits.slice(0, 4)} ${digits.slice(4, 8)} ${digits.slice(8)}`;
}

/** Why a frame was refused; any of them ends the channel. */
const FRAME_FAULTS = ['out-of-order', 'tampered', 'malformed'] as const;
export type FrameFault = (typeof FRAME_FAULTS)[number];

export function isFrameFault(reason: string): reason is FrameFault {
  return (FRAME_FAULTS as readonly string[]).includes(reason);
}

export class FrameRejected extends Error {
  constructor(readonly fault: FrameFault) {
    super(`private frame rejected: ${fault}`);
    this.name = 'FrameRejected';
  }
}

const TAG_BYTES = 16;
const AAD = Buffer.from(`${PRIVATE_PROTOCOL} frame`);

/** The 96-bit GCM nonce: four zero bytes, then the frame's counter big-endian. A key is used in one direction only. */
function nonceFor(counter: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(BigInt(counter), 4);
  return nonce;
}

/**
 * Seals and opens the frames of one channel. Each direction counts from 0; a frame must carry exactly
 * the next number, so that a replayed, dropped or reordered frame is refused before decryption.
 */
export class ChannelCipher {
  private sent = 0;
  private received = 0;

  constructor(private readonly keys: ChannelKeys) {}

  seal(plaintext: PeerPlaintext): PeerFrame {
    const n = this.sent++;
    const cipher = createCipheriv('aes-256-gcm', this.keys.send, nonceFor(n), { authTagLength: TAG_BYTES });
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(JSON.stringify(plaintext), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { n, c: body.toString('base64url') };
  }

  /** The plaintext of the next frame; throws FrameRejected for anything else. */
  open(frame: PeerFrame): PeerPlaintext {
    if (frame.n !== this.received) throw new FrameRejected('out-of-order');
    const sealed = Buffer.from(frame.c, 'base64url');
    if (sealed.length < TAG_BYTES) throw new FrameRejected('malformed');
    let json: string;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.keys.receive, nonceFor(frame.n), { authTagLength: TAG_BYTES });
      decipher.setAAD(AAD);
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      json = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new FrameRejected('tampered');
    }
    this.received++;
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch {
      throw new FrameRejected('malformed');
    }
    const parsed = peerPlaintextSchema.safeParse(value);
    if (!parsed.success) throw new FrameRejected('malformed');
    return parsed.data;
  }
}
