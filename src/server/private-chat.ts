import { BlockList } from 'node:net';
import { TICKET_CLOCK_SKEW_MS, failure, type RequestPayload, type ReplyTo } from '../protocol';
import type { Accounts } from './accounts';
import type { Blocks } from './blocks';
import { unmapped } from './client-address';
import type { Clock } from './clock';
import type { Cluster } from './cluster/pg-cluster';
import type { Connection, PeerEndpoint } from './connection';
import type { Logger } from './log';
import type { Presence } from './presence';
import type { TicketIssuer } from './tickets';

export interface PrivateChatDeps {
  accounts: Accounts;
  presence: Presence<Connection>;
  blocks: Blocks;
  tickets: TicketIssuer;
  clock: Clock;
  log: Logger;
  /** In cluster mode: the other nodes' sessions' listeners, and the live nodes' ticket keys. */
  cluster?: Pick<Cluster, 'peers' | 'ticketKeys'>;
}

/**
 * The message center's part in private chat: it remembers each session's peer listener (in memory,
 * with the session; in a cluster also in the database, for the other nodes), and hands one user another's
 * address with a signed ticket when the rules allow. Private messages themselves never come here.
 */
export class PrivateChat {
  constructor(private readonly deps: PrivateChatDeps) {
    deps.cluster?.ticketKeys.onChange((keys) => this.announceTicketKeys(keys));
  }

  async register(conn: Connection, { host, port, publicKey, partners = [] }: RequestPayload<'peer'>): Promise<ReplyTo<'peer'>> {
    const refusal = host === undefined ? undefined : peerHostRefusal(host, conn.address);
    if (refusal) return failure('BAD_REQUEST', refusal);
    // A client listening on every interface cannot know which of its addresses others reach; the one it came from is the best guess.
    const advertised = host ?? unmapped(conn.address);
    const now = this.deps.clock();
    conn.peer = { host: advertised, port, publicKey, registeredAt: now };
    const me = conn.user!;
    await this.deps.cluster?.peers.register(conn.socket.id, me, conn.peer);
    this.deps.log.info('peer listener registered', { username: me, host: advertised, port });
    // A client that had no session when a block was made never heard `privateRevoked`; it learns here which chats must end.
    const blocked = partners.filter((other) => this.deps.blocks.has(me, other) || this.deps.blocks.has(other, me));
    return {
      ok: true,
      host: advertised,
      port,
      ticketKey: this.deps.tickets.publicKey,
      ...(this.deps.cluster && { ticketKeys: this.deps.cluster.ticketKeys.all() }),
      serverTime: now,
      ticketTtlMs: this.deps.tickets.ttlMs,
      blocked,
    };
  }

  /** The session's listener is gone with it (in a cluster, for the other nodes too). */
  ended(conn: Connection): void {
    if (conn.peer) this.deps.cluster?.peers.unregister(conn.socket.id);
  }

  async start(conn: Connection, { username, publicKey }: RequestPayload<'startprivate'>): Promise<ReplyTo<'startprivate'>> {
    const me = conn.user!;
    if (username === me) return failure('SELF', 'You cannot start a private chat with yourself.');
    if (!this.deps.accounts.has(username)) return failure('UNKNOWN_USER', `There is no user named "${username}".`);
    // Blocks are checked before presence, so that a blocked user learns nothing about whether the other is online.
    if (this.deps.blocks.has(username, me)) return failure('BLOCKED', `${username} has blocked you; a private chat is not possible.`);
    if (this.deps.blocks.has(me, username)) return failure('BLOCKED', `You have blocked ${username}; unblock them to chat privately.`);
    if (!this.deps.presence.isOnline(username)) {
      return failure('USER_OFFLINE', `${username} is not online; "message ${username} <text>" keeps a message for them.`);
    }
    // This node's sessions first; in a cluster, then the other nodes'.
    const local = chooseSession(this.deps.presence.sessionsOf(username));
    const target = local ?? (await chooseElsewhere(this.deps.cluster, username));
    if (!target) {
      return failure(
        'NO_PEER_LISTENER',
        `${username} is online but their client takes no direct connections; "message ${username} <text>" sends through the server.`,
      );
    }
    // A listener on the server machine's loopback is reachable from that machine only: not an address for anyone else to dial.
    // In a cluster, that machine is the listener's node's, and which nodes share a machine is not known: another node's
    // loopback listener is handed to nobody here.
    if (meansOwnMachine(target.host) && !(local && meansOwnMachine(conn.address))) {
      const where = local ? "the server's machine" : 'the machine of the server they are signed in to';
      return failure(
        'NO_PEER_LISTENER',
        `${username}'s client takes direct connections only from ${where}; "message ${username} <text>" sends through the server.`,
      );
    }
    const { ticket, expiresAt } = this.deps.tickets.issue({ from: me, to: username, fromKey: publicKey, toKey: target.publicKey });
    this.deps.log.info('private ticket issued', { from: me, to: username, expiresAt });
    return { ok: true, username, host: target.host, port: target.port, publicKey: target.publicKey, ticket, expiresAt };
  }

  /**
   * After a block, every session of both users hears it: their clients close any channel between them
   * and refuse tickets for the pair issued until now, which the server can no longer take back.
   */
  revoke(a: string, b: string): void {
    // In a cluster, tickets are dated on the clock of the node that issued them, which may run ahead of this one's as far as
    // clients allow, and another node may issue one in the moment before it hears of the block: the revocation reaches that far.
    const at = this.deps.clock() + (this.deps.cluster ? TICKET_CLOCK_SKEW_MS : 0);
    for (const [user, other] of [
      [a, b],
      [b, a],
    ] as const) {
      for (const session of this.deps.presence.sessionsOf(user))
        session.socket.emit('privateRevoked', { username: other, reason: 'blocked', at });
    }
  }

  /** A node joined or left the cluster: this node's sessions that take direct connections accept its tickets, or no longer. */
  private announceTicketKeys(keys: string[]): void {
    for (const user of this.deps.presence.online())
      for (const session of this.deps.presence.sessionsOf(user)) if (session.peer) session.socket.emit('ticketKeys', { keys });
  }
}

/**
 * Which of a user's sessions on other nodes a private chat goes to: the most recently registered listener that the
 * requester may be handed (not one on loopback, see `start`), else the most recent, which `start` then refuses.
 */
async function chooseElsewhere(cluster: PrivateChatDeps['cluster'], username: string): Promise<PeerEndpoint | undefined> {
  const listeners = (await cluster?.peers.elsewhere(username)) ?? [];
  return listeners.find((p) => !meansOwnMachine(p.host)) ?? listeners[0];
}

/**
 * Which of a user's sessions a private chat goes to when they are signed in from several windows:
 * the most recently active one (last request) that has a peer listener; on a tie, the latest to register.
 */
export function chooseSession(sessions: Iterable<Connection>): PeerEndpoint | undefined {
  let best: Connection | undefined;
  for (const s of sessions) {
    if (!s.peer) continue;
    if (
      !best ||
      s.lastCommandAt > best.lastCommandAt ||
      (s.lastCommandAt === best.lastCommandAt && s.peer.registeredAt > best.peer!.registeredAt)
    ) {
      best = s;
    }
  }
  return best?.peer;
}

/** Addresses that make a dialler connect to its own machine: loopback, and the unspecified address (which Linux treats as loopback). */
const OWN_MACHINE = new BlockList();
OWN_MACHINE.addSubnet('127.0.0.0', 8, 'ipv4');
OWN_MACHINE.addSubnet('0.0.0.0', 8, 'ipv4');
OWN_MACHINE.addAddress('::1', 'ipv6');
OWN_MACHINE.addAddress('::', 'ipv6');

const meansOwnMachine = (address: string): boolean => OWN_MACHINE.check(address, address.includes(':') ? 'ipv6' : 'ipv4');

/**
 * Why a registered peer host is refused, if it is. A client may name any address it is reached at (a
 * router's, another interface's), which the server cannot verify; but a loopback (or unspecified) address
 * from a client on another machine would have others' clients dial a service on their own machine.
 */
export function peerHostRefusal(host: string, connectedFrom: string): string | undefined {
  if (!meansOwnMachine(host) || meansOwnMachine(connectedFrom)) return undefined;
  return `Invalid "peer": host ${host} would have others dial their own machine; it is accepted only from a client on the server's machine. Leave host out to have the server hand out the address it sees.`;
}
