import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { ParleyClient, ParleyRequestError, type ClientOptions } from '../src/client/parley-client';
import { generatePeerKeys } from '../src/client/private-crypto';
import type { PresenceEvent } from '../src/protocol';
import { makePki } from './helpers/certificates';
import { killNodes, NODE_HEARTBEAT_S, seedUsers, startNodes, type NodeProcess } from './helpers/cluster-nodes';
import { startLoadBalancer } from './helpers/load-balancer';
import { nginxOrSkip } from './helpers/nginx';
import { POSTGRES_MISSING, usePostgres } from './helpers/postgres';
import { eventually, passwordOf, tempDir } from './helpers/server';

const postgres = usePostgres();

const HEARTBEAT_MS = NODE_HEARTBEAT_S * 1000;
/** A node's request bucket refills at 10 a second: senders pace themselves below it, acknowledgements included. */
const SEND_EVERY_MS = 160;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One direct message a test sends, named by its body, which no other send has. */
interface Send {
  from: string;
  to: string;
  body: string;
  clientMsgId: string;
  /** The id the server acknowledged it with. */
  id?: number;
  /** Why its last attempt failed, if it did. */
  failed?: unknown;
}

/**
 * What each user's clients showed (the client core's `message` events, which drop a repeated id): per body,
 * the ids it came with, and how many times an id came again to another client of the same user (a replay of
 * a message whose acknowledgement was lost with its node).
 */
class Inboxes {
  private readonly bodies = new Map<string, Map<string, Set<number>>>();
  private readonly seen = new Map<string, Set<number>>();
  again = 0;

  watch(user: string, client: ParleyClient): void {
    client.on('message', (message) => {
      if (message.to !== user || message.kind !== 'direct') return;
      const ids = this.seen.get(user) ?? new Set();
      this.seen.set(user, ids);
      if (ids.has(message.id)) this.again++;
      ids.add(message.id);
      const bodies = this.bodies.get(user) ?? new Map<string, Set<number>>();
      this.bodies.set(user, bodies);
      bodies.set(message.body, (bodies.get(message.body) ?? new Set()).add(message.id));
    });
  }

  has(send: Send): boolean {
    return this.bodies.get(send.to)?.has(send.body) ?? false;
  }

  /** Every send arrived, each under the one id its sender was told, and nothing else arrived. */
  assertExactlyOnce(sends: readonly Send[]): void {
    for (const send of sends) {
      assert.notEqual(send.id, undefined, `${send.body} was never acknowledged`);
      assert.deepEqual([...(this.bodies.get(send.to)?.get(send.body) ?? [])], [send.id], `${send.body} to ${send.to}`);
    }
    const sent = new Set(sends.map((s) => `${s.to}\u0000${s.body}`));
    for (const [user, bodies] of this.bodies)
      for (const body of bodies.keys()) assert.ok(sent.has(`${user}\u0000${body}`), `${user} got ${body}, which nobody sent`);
  }
}

/** Clients a test opened, closed after it whatever happened. */
function clientsOf(t: TestContext): (url: string, options?: ClientOptions) => ParleyClient {
  const clients: ParleyClient[] = [];
  t.after(() => {
    for (const client of clients) client.close();
  });
  return (url, options = {}) => {
    const client = new ParleyClient(url, {
      ...options,
      socket: { reconnectionDelay: 100, reconnectionDelayMax: 500, ...options.socket },
    });
    clients.push(client);
    return client;
  };
}

async function nodesFor(t: TestContext, users: readonly string[]): Promise<NodeProcess[]> {
  const url = await postgres.createDatabase();
  await seedUsers(url, users);
  const nodes = await startNodes(url, 3);
  t.after(() => killNodes(nodes));
  return nodes;
}

/** Sends `send` once, recording the id it was acknowledged with or why it failed. */
async function attempt(client: ParleyClient, send: Send): Promise<void> {
  try {
    send.id = (await client.request('message', { to: send.to, body: send.body, clientMsgId: send.clientMsgId })).id;
    send.failed = undefined;
  } catch (err) {
    send.failed = err;
  }
}

/** A user's node, from the name signedInAcross gives: `n<node>u<k>`. */
const nodeOf = (user: string): number => Number(user[1]);

/** Three nodes with `perNode` users each, every user signed in on their own node, what they receive watched. */
async function signedInAcross(t: TestContext, perNode: number) {
  const users = Array.from({ length: 3 * perNode }, (_, i) => `n${i % 3}u${Math.floor(i / 3)}`);
  const nodes = await nodesFor(t, users);
  const client = clientsOf(t);
  const inboxes = new Inboxes();
  const clients = new Map<string, ParleyClient>();
  for (const user of users) {
    const c = client(nodes[nodeOf(user)]!.url, { requestTimeoutMs: 10_000 });
    inboxes.watch(user, c);
    await c.connect();
    await c.login(user, passwordOf(user));
    clients.set(user, c);
  }
  return { users, nodes, client, inboxes, clients };
}

/**
 * Every sender's messages at once, each sender sending one every SEND_EVERY_MS without waiting for the answers;
 * `answered` hears of each once it is answered. A sender stops when `goOn` says no.
 */
async function sendAll(
  sends: readonly Send[][],
  clients: ReadonlyMap<string, ParleyClient>,
  answered: (send: Send) => void,
  goOn: (send: Send) => boolean = () => true,
): Promise<void> {
  await Promise.all(
    sends.map(async (mine) => {
      const inFlight: Promise<void>[] = [];
      for (const send of mine) {
        if (!goOn(send)) break;
        inFlight.push(attempt(clients.get(send.from)!, send).then(() => answered(send)));
        await sleep(SEND_EVERY_MS);
      }
      await Promise.all(inFlight);
    }),
  );
}

/** Each sender sends again, one after another, what was not acknowledged, with the same client ids, until it is. */
async function sendAgain(sends: readonly Send[][], clients: ReadonlyMap<string, ParleyClient>): Promise<void> {
  await Promise.all(
    sends.map(async (mine) => {
      for (const send of mine.filter((s) => s.id === undefined)) {
        await eventually(
          async () => {
            await attempt(clients.get(send.from)!, send);
            await sleep(SEND_EVERY_MS);
            return send.id !== undefined;
          },
          20_000,
          `${send.body} to be acknowledged`,
        );
      }
    }),
  );
}

/** Each user sends to the users of the other nodes in turn: `perSender` messages each. */
function plan(users: readonly string[], perSender: (i: number) => number): Send[][] {
  return users.map((from, i) => {
    const others = users.filter((u) => nodeOf(u) !== nodeOf(from));
    return Array.from({ length: perSender(i) }, (_, n) => ({
      from,
      to: others[n % others.length]!,
      body: `${from}>${others[n % others.length]!} #${n}`,
      clientMsgId: randomUUID(),
    }));
  });
}

const codeOf = (err: unknown): string => (err instanceof ParleyRequestError ? err.code : String(err));

/** The address a node believes the client has: the one it hands out for the client's peer listener. */
async function seenAs(client: ParleyClient): Promise<string> {
  return (await client.request('peer', { port: 4100, publicKey: generatePeerKeys().publicKey })).host;
}

/** The nodes that logged a sign-in of `username`, with the address they saw it from. */
function signInsOf(nodes: readonly NodeProcess[], username: string): { node: number; address: unknown }[] {
  return nodes.flatMap((node, i) =>
    node
      .logged()
      .filter((line) => line.message === 'signed in' && line['username'] === username)
      .map((line) => ({ node: i, address: line['address'] })),
  );
}

describe('cluster failover: nodes as parley-server processes on one PostgreSQL', { skip: POSTGRES_MISSING }, () => {
  test('kill -9 of a node during 1,000 sends: every acknowledged message arrives once, its users go offline', async (t) => {
    const { users, nodes, client, inboxes, clients } = await signedInAcross(t, 6);
    const observer = clients.get('n0u0')!;
    const presence: [PresenceEvent, number][] = [];
    observer.on('presence', (event) => presence.push([event, Date.now()]));

    const victim = 2;
    const victims = users.filter((u) => nodeOf(u) === victim);
    const sends = plan(users, (i) => (i < 1000 % users.length ? 1 : 0) + Math.floor(1000 / users.length));
    assert.equal(sends.flat().length, 1000);
    let acknowledged = 0;
    let killedAt: number | undefined;
    const tokens = new Map<string, string>();
    const kill = (): void => {
      for (const user of victims) tokens.set(user, clients.get(user)!.sessionToken!.token);
      nodes[victim]!.program.kill('SIGKILL');
      killedAt = Date.now();
      // Their address is gone for good: they give up on it, and what they had in flight fails at once.
      for (const user of victims) clients.get(user)!.close();
    };
    await sendAll(
      sends,
      clients,
      (send) => {
        if (send.id !== undefined && ++acknowledged === 350) kill();
      },
      (send) => killedAt === undefined || nodeOf(send.from) !== victim,
    );
    assert.ok(killedAt !== undefined, 'the node was killed during the burst');
    const { signal } = await nodes[victim]!.program.exited;
    assert.equal(signal, 'SIGKILL');
    t.diagnostic(`acknowledged before the retries: ${sends.flat().filter((s) => s.id !== undefined).length} of 1000`);

    // The others take the dead node's users offline within two heartbeat intervals, as last seen at its last beat.
    await eventually(
      () => victims.every((u) => presence.some(([e]) => e.username === u && !e.online)),
      4 * HEARTBEAT_MS,
      "the dead node's users to go offline",
    );
    const offlineAfter = Math.max(...victims.map((u) => presence.find(([e]) => e.username === u && !e.online)![1])) - killedAt;
    t.diagnostic(`its users went offline on the others ${offlineAfter} ms after the kill`);
    // The event crosses a node and reaches a client on a busy machine: a little time on top of the detection itself.
    assert.ok(offlineAfter <= 2 * HEARTBEAT_MS + 1500, `offline after ${offlineAfter} ms, heartbeat ${HEARTBEAT_MS} ms`);
    const listed = new Map((await observer.users()).users.map((u) => [u.username, u]));
    for (const user of victims) {
      const { online, lastSeen } = listed.get(user)!;
      assert.equal(online, false, user);
      // The dead node beat every half interval; its last beat came before the kill.
      assert.ok(lastSeen !== null && lastSeen <= killedAt && lastSeen >= killedAt - HEARTBEAT_MS, `${user} last seen ${lastSeen}`);
    }
    assert.deepEqual((await observer.wholast(1)).users.filter((u) => victims.includes(u)).sort(), [...victims].sort());
    assert.deepEqual(
      (await observer.whoelse()).users.filter((u) => victims.includes(u)),
      [],
    );

    // They come back on the other nodes with their session tokens, are sent what they missed, and send again
    // what was not acknowledged, with the same client ids; so does everyone whose send failed.
    for (const [i, user] of victims.entries()) {
      const c = client(nodes[i % 2]!.url, { requestTimeoutMs: 10_000 });
      inboxes.watch(user, c);
      await c.connect();
      await c.resume(tokens.get(user)!, user);
      clients.set(user, c);
    }
    const failed = sends.flat().filter((s) => s.failed !== undefined);
    t.diagnostic(`failed, to send again: ${failed.length} (${[...new Set(failed.map((s) => codeOf(s.failed)))].join(', ')})`);
    await sendAgain(sends, clients);
    await eventually(() => sends.flat().every((s) => inboxes.has(s)), 30_000, 'every message to arrive');
    await sleep(500); // anything that would arrive twice
    inboxes.assertExactlyOnce(sends.flat());
    t.diagnostic(`ids shown again by a user's second client (replayed, their acknowledgement lost with the node): ${inboxes.again}`);
  });

  test('PostgreSQL stopped as by a crash and started again under traffic: nothing acknowledged is lost', async (t) => {
    const { users, nodes, inboxes, clients } = await signedInAcross(t, 2);
    const wentOffline: string[] = [];
    for (const [user, c] of clients)
      c.on('presence', (event) => {
        if (!event.online) wentOffline.push(`${event.username} (seen by ${user})`);
      });

    const sends = plan(users, () => 60);
    let acknowledged = 0;
    let outage: Promise<void> | undefined;
    let down = false;
    const sentWhileDown: Send[] = [];
    await sendAll(
      sends,
      clients,
      (send) => {
        if (send.id === undefined || ++acknowledged !== 100) return;
        // Down for longer than a node may be silent before the others take it out.
        outage = postgres.outage(async () => {
          down = true;
          await sleep(2 * HEARTBEAT_MS);
          down = false;
        });
      },
      (send) => {
        if (down) sentWhileDown.push(send);
        return true;
      },
    );
    assert.ok(outage, 'PostgreSQL was stopped during the sends');
    await outage;
    // Each node lived through it, whatever its connections to the database were doing when they broke.
    for (const node of nodes) assert.ok(node.program.running, `a node ended:\n${node.program.stderr.slice(-3000)}`);
    assert.ok(sentWhileDown.length > 0, 'some sends were made while PostgreSQL was down');
    // A send the database could not take is refused with a reason, never acknowledged; the client may send it again.
    const failed = sends.flat().filter((s) => s.failed !== undefined);
    t.diagnostic(
      `sent while down: ${sentWhileDown.length}; failed: ${failed.length} (${[...new Set(failed.map((s) => codeOf(s.failed)))].join(', ')})`,
    );
    for (const send of failed) assert.ok(send.failed instanceof ParleyRequestError, String(send.failed));
    assert.ok(
      sentWhileDown.every((s) => s.failed !== undefined || s.id !== undefined),
      'every send made while it was down was answered',
    );

    // Sent again with the same client ids once it is back: each is stored once, whether or not its first try was.
    await sendAgain(sends, clients);
    // The recipients never signed in again: what reaches them now comes live, across nodes.
    await eventually(() => sends.flat().every((s) => inboxes.has(s)), 20_000, 'every message to arrive');
    await sleep(500);
    inboxes.assertExactlyOnce(sends.flat());
    assert.equal(inboxes.again, 0);
    // A node that lost its database for a while is not dead: nobody went offline.
    assert.deepEqual(wentOffline, []);
    for (const node of nodes) {
      await eventually(async () => (await fetch(`${node.url}/readyz`)).status === 200, 10_000, 'every node to be ready again');
    }
  });

  test('through nginx: a client whose node dies carries on from another, with its session and its own address', async (t) => {
    const binary = nginxOrSkip(t);
    if (!binary) return;
    const nodes = await nodesFor(t, ['alice', 'bob']);
    const dir = tempDir('parley-failover-pki-');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pki = makePki(dir);
    const nginx = await startLoadBalancer(
      binary,
      nodes.map((n) => n.port),
      pki.issue('balancer'),
    );
    t.after(() => nginx.stop());
    const client = clientsOf(t);

    // For external monitors: the probe answers through nginx too.
    const probe = await new Promise<{ status: number; body: string }>((resolve, reject) =>
      httpsGet(`${nginx.url}/healthz`, { ca: pki.ca }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject),
    );
    assert.deepEqual(probe, { status: 200, body: 'ok\n' });

    // From another loopback address than nginx's own, as a client on another machine would be.
    const fromAfar = { localAddress: '127.0.0.2', ca: pki.ca };
    const alice = client(nginx.url, { requestTimeoutMs: 5000, socket: fromAfar });
    const inboxes = new Inboxes();
    inboxes.watch('alice', alice);
    await alice.connect();
    await alice.login('alice', passwordOf('alice'));
    // Each node saw her through nginx at her own address, and so tells it for her peer listener.
    assert.equal(await seenAs(alice), '127.0.0.2');
    const [first] = signInsOf(nodes, 'alice');
    assert.ok(first, 'a node logged her sign-in');
    assert.equal(first.address, '127.0.0.2');
    const dying = first.node;
    // bob is on another node, straight (as an administrator's client could be): he stays while hers dies.
    const bob = client(nodes[(dying + 1) % 3]!.url, { requestTimeoutMs: 5000 });
    inboxes.watch('bob', bob);
    await bob.connect();
    await bob.login('bob', passwordOf('bob'));

    const toBob = Array.from({ length: 30 }, (_, n): Send => ({ from: 'alice', to: 'bob', body: `alice>bob #${n}`, clientMsgId: '' }));
    const sending: Promise<unknown>[] = [];
    const resumed = new Promise((resolve) => alice.once('resumed', () => resolve(undefined)));
    // Sent as the client core sends them: it makes the client id, and sends again after a reconnection.
    const send = (message: Send): number =>
      sending.push(
        alice.message(message.to, message.body).then(
          (reply) => (message.id = reply.id),
          (err: unknown) => (message.failed = err),
        ),
      );
    for (const message of toBob.slice(0, 10)) {
      send(message);
      await sleep(SEND_EVERY_MS);
    }
    await eventually(() => toBob.slice(0, 10).every((s) => s.id !== undefined), 10_000, 'ten sends acknowledged');
    // Twenty more, and her node dies before it can answer any of them.
    toBob.slice(10).forEach(send);
    nodes[dying]!.program.kill('SIGKILL');
    await nodes[dying]!.program.exited;
    // What bob sends her meanwhile is hers to be sent once she is back, wherever she lands.
    const toAlice: Send[] = [];
    for (let n = 0; n < 10; n++) {
      const send: Send = { from: 'bob', to: 'alice', body: `bob>alice #${n}`, clientMsgId: randomUUID() };
      await attempt(bob, send);
      toAlice.push(send);
    }
    await resumed;
    await Promise.all(sending);
    for (const send of toBob) assert.equal(send.failed, undefined, `${send.body}: ${String(send.failed)}`);

    await eventually(() => [...toBob, ...toAlice].every((s) => inboxes.has(s)), 15_000, 'every message to arrive');
    await sleep(500);
    inboxes.assertExactlyOnce([...toBob, ...toAlice]);

    // She signed in again with her session token on a live node, seen there at her own address too.
    const again = signInsOf(nodes, 'alice').slice(1);
    assert.equal(again.length, 1, JSON.stringify(again));
    assert.notEqual(again[0]!.node, dying);
    assert.equal(again[0]!.address, '127.0.0.2');
    assert.equal(await seenAs(alice), '127.0.0.2');
    // New clients keep coming in through nginx while the dead node stays in its configuration: the first connection
    // it refuses has nginx leave it out (max_fails=1) for the next ones (fail_timeout).
    for (let i = 0; i < 4; i++) await client(nginx.url, { socket: { ca: pki.ca, reconnection: false } }).connect();
    const told = nginx.errorLog();
    assert.match(told, /upstream server temporarily disabled/);
    assert.equal(told.match(/connect\(\) failed \(111: Connection refused\)/g)?.length, 1, told);
  });

  test('through nginx: a node that hangs is left out, and new clients sign in on the others', async (t) => {
    const binary = nginxOrSkip(t);
    if (!binary) return;
    const users = Array.from({ length: 6 }, (_, n) => `newcomer${n}`);
    const nodes = await nodesFor(t, users);
    const dir = tempDir('parley-hang-pki-');
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pki = makePki(dir);
    const nginx = await startLoadBalancer(
      binary,
      nodes.map((n) => n.port),
      pki.issue('balancer'),
    );
    t.after(() => nginx.stop());
    // Stopped, its kernel still takes connections for it: nginx's connect succeeds, and only the wait for an answer tells.
    const hung = nodes[0]!;
    hung.program.kill('SIGSTOP');
    t.after(() => hung.program.kill('SIGCONT'));
    const client = clientsOf(t);
    const started = Date.now();
    const signedIn = await Promise.all(
      users.map(async (user, n) => {
        await sleep(n * 1000); // one at a time, as people arrive
        // The client core's own connection timeout and backoff, as the extension and the terminal client have.
        const newcomer = client(nginx.url, {
          requestTimeoutMs: 5000,
          socket: { ca: pki.ca, reconnectionDelay: 500, reconnectionDelayMax: 5000 },
        });
        await newcomer.connect();
        await newcomer.login(user, passwordOf(user));
        return Date.now() - started - n * 1000;
      }),
    );
    t.diagnostic(`signed in after ${signedIn.join(', ')} ms`);
    const slowest = Math.max(...signedIn);
    assert.ok(slowest < 30_000, `every newcomer signs in within 30 s of arriving (slowest: ${slowest} ms)`);
    assert.match(nginx.errorLog(), /upstream timed out/);
  });

  test('--single-session: a node back after the others took it out ends its session of a user who signed in elsewhere', async (t) => {
    const url = await postgres.createDatabase();
    await seedUsers(url, ['alice', 'bob']);
    const nodes = await startNodes(url, 3, ['--single-session']);
    t.after(() => killNodes(nodes));
    const client = clientsOf(t);
    const first = client(nodes[0]!.url, { requestTimeoutMs: 5000 });
    await first.connect();
    await first.login('alice', passwordOf('alice'));
    let ended: string | undefined;
    first.once('signedOut', (event) => (ended = event.reason));
    const bob = client(nodes[1]!.url, { requestTimeoutMs: 5000 });
    await bob.connect();
    await bob.login('bob', passwordOf('bob'));

    nodes[0]!.program.kill('SIGSTOP');
    t.after(() => nodes[0]!.program.kill('SIGCONT'));
    // Refused while her node counts, then, once the others have taken it out, let in on another node.
    let second: ParleyClient | undefined;
    await eventually(
      async () => {
        const attempt = client(nodes[1]!.url, { requestTimeoutMs: 5000, socket: { reconnection: false } });
        await attempt.connect();
        return attempt.login('alice', passwordOf('alice')).then(
          () => ((second = attempt), true),
          (err: unknown) => {
            assert.equal((err as { code?: string }).code, 'ALREADY_SIGNED_IN');
            attempt.close();
            return false;
          },
        );
      },
      6 * HEARTBEAT_MS,
      'alice let in on another node',
    );
    nodes[0]!.program.kill('SIGCONT');
    await eventually(() => ended !== undefined, 5 * HEARTBEAT_MS, 'her first session to end once its node is back');
    assert.equal(ended, 'logout');
    // The second stays, the only one the cluster knows of.
    assert.ok((await bob.whoelse()).users.includes('alice'));
    await second!.whoelse();
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    t.after(() => db.end());
    await eventually(
      async () => (await db.query("SELECT node FROM presence WHERE username = 'alice'")).rowCount === 1,
      3 * HEARTBEAT_MS,
      'one presence row for alice',
    );
  });
});
