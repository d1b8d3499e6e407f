import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { io } from 'socket.io-client';
import type { ParleyClient } from '../src/client/parley-client';
import { ParleyRequestError } from '../src/client/request-error';
import { collect, eventually, next, PER_NODE_METRICS, startServer, type TestServer } from './helpers/server';

/** One scrape: each sample's value by its name and labels as written (`parley_requests_total{kind="message"}`). */
type Samples = Map<string, number>;

async function scrape(srv: TestServer): Promise<Samples> {
  const url = srv.server.metricsUrl();
  assert.ok(url, 'the server serves metrics');
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const samples: Samples = new Map();
  for (const line of (await res.text()).split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

/** How much each sample named moved between two scrapes (0 for one missing from both). */
function moved(before: Samples, after: Samples, ...names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((name) => [name, (after.get(name) ?? 0) - (before.get(name) ?? 0)]));
}

/** The TCP socket under a client's WebSocket: pausing it makes a client that does not read. */
function tcpOf(client: ParleyClient): { pause(): void; resume(): void } {
  type Tcp = { pause(): void; resume(): void };
  return (client as unknown as { socket: { io: { engine: { transport: { ws: { _socket: Tcp } } } } } }).socket.io.engine.transport.ws
    ._socket;
}

async function rejects(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => err instanceof ParleyRequestError && err.code === code);
}

describe('Prometheus metrics', () => {
  test('a scrape while real clients chat shows what they did', { skip: PER_NODE_METRICS }, async (t) => {
    const srv = await startServer({ users: ['alice', 'bob', 'carol', 'dave'], metrics: { port: 0 } });
    t.after(() => srv.close());
    const url = new URL(srv.server.metricsUrl()!);
    assert.equal(url.hostname, '127.0.0.1', 'loopback unless told otherwise');
    assert.notEqual(url.port, String(srv.port), 'a port of its own');
    const start = await scrape(srv);
    assert.equal(start.get('parley_connections'), 0);
    assert.equal(start.get('parley_users_signed_in'), 0);

    const alice = await srv.signIn('alice');
    const alice2 = await srv.signIn('alice');
    const bob = await srv.signIn('bob');
    const carol = await srv.signIn('carol');
    const signedIn = await scrape(srv);
    assert.equal(signedIn.get('parley_connections'), 4);
    assert.equal(signedIn.get('parley_users_signed_in'), 3);
    assert.equal(signedIn.get('parley_sessions'), 4);

    // Direct messages: alice to bob reaches bob and alice's other window; bob to alice reaches both of hers;
    // alice to dave (offline) her other window only, until dave signs in.
    const toBob = next(bob, 'message');
    await alice.message('bob', 'hi bob');
    await toBob;
    const toAlice = Promise.all([next(alice, 'message'), next(alice2, 'message')]);
    await bob.message('alice', 'hi alice');
    await toAlice;
    // A channel post reaches every other session in #general.
    const posted = Promise.all([alice, alice2, bob].map((c) => next(c, 'message', (m) => m.kind === 'channel')));
    assert.equal((await carol.post('general', 'hello all')).delivered, 3);
    await posted;
    // A broadcast to whoever is online.
    const broadcast = Promise.all([alice, alice2, bob].map((c) => next(c, 'message', (m) => m.kind === 'broadcast')));
    await carol.broadcast('lunch?');
    await broadcast;
    // A message to dave, offline: stored, delivered when he signs in (replayed).
    await alice.message('dave', 'when you are back');
    await rejects(alice.message('nobody', 'lost'), 'UNKNOWN_USER');

    // A stranger guesses dave's password until the username is locked from that address.
    const guesser = await srv.connect();
    await rejects(guesser.login('dave', 'guess-1'), 'INVALID_CREDENTIALS');
    await rejects(guesser.login('dave', 'guess-2'), 'INVALID_CREDENTIALS');
    await rejects(guesser.login('dave', 'guess-3'), 'LOCKED_OUT');
    await rejects(guesser.login('dave', 'guess-4'), 'LOCKED_OUT');
    // An outdated client is refused at its handshake.
    const outdated = io(srv.url, { transports: ['websocket'], auth: { protocol: 99 }, reconnection: false });
    t.after(() => outdated.close());
    await new Promise((resolve) => outdated.once('connect_error', resolve));

    const chatted = await scrape(srv);
    assert.deepEqual(
      moved(
        signedIn,
        chatted,
        'parley_requests_total{kind="message"}',
        'parley_requests_total{kind="post"}',
        'parley_requests_total{kind="broadcast"}',
        'parley_requests_total{kind="login"}',
        'parley_messages_stored_total{kind="direct"}',
        'parley_messages_stored_total{kind="channel"}',
        'parley_messages_stored_total{kind="broadcast"}',
        'parley_messages_delivered_total{kind="direct"}',
        'parley_messages_delivered_total{kind="channel"}',
        'parley_messages_delivered_total{kind="broadcast"}',
        'parley_request_errors_total{code="UNKNOWN_USER"}',
        'parley_request_errors_total{code="INVALID_CREDENTIALS"}',
        'parley_request_errors_total{code="LOCKED_OUT"}',
        'parley_lockouts_total',
        'parley_connections_refused_total{reason="version"}',
        'parley_connections_refused_total{reason="origin"}',
      ),
      {
        'parley_requests_total{kind="message"}': 4,
        'parley_requests_total{kind="post"}': 1,
        'parley_requests_total{kind="broadcast"}': 1,
        'parley_requests_total{kind="login"}': 4,
        'parley_messages_stored_total{kind="direct"}': 3,
        'parley_messages_stored_total{kind="channel"}': 1,
        'parley_messages_stored_total{kind="broadcast"}': 1,
        'parley_messages_delivered_total{kind="direct"}': 5,
        'parley_messages_delivered_total{kind="channel"}': 3,
        'parley_messages_delivered_total{kind="broadcast"}': 3,
        'parley_request_errors_total{code="UNKNOWN_USER"}': 1,
        'parley_request_errors_total{code="INVALID_CREDENTIALS"}': 2,
        'parley_request_errors_total{code="LOCKED_OUT"}': 2,
        parley_lockouts_total: 1,
        'parley_connections_refused_total{reason="version"}': 1,
        'parley_connections_refused_total{reason="origin"}': 0,
      },
    );
    assert.equal(chatted.get('parley_connections'), 5, 'the guesser is connected, not signed in');
    assert.equal(chatted.get('parley_sessions'), 4);
    // Every send was committed: the histogram counts commits, at least one per message stored.
    const commits = (chatted.get('parley_store_commit_seconds_count') ?? 0) - (signedIn.get('parley_store_commit_seconds_count') ?? 0);
    assert.ok(commits >= 5, `${commits} commits`);
    assert.equal(chatted.get('parley_store_commit_seconds_bucket{le="+Inf"}'), chatted.get('parley_store_commit_seconds_count'));
    assert.equal(chatted.get('parley_store_commit_failures_total'), 0);
    assert.equal(chatted.get('parley_store_writable'), 1);
    // Node's own, from prom-client's defaults.
    for (const name of ['process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds'])
      assert.ok(chatted.has(name), name);

    // dave signs in once the lock on his username from this address has run out, and is replayed what waited.
    srv.clock.advance(60_000);
    const dave = await srv.connect();
    const got = collect(dave, 'message');
    await dave.login('dave', 'dave-pw');
    await eventually(() => got.some(([m]) => m.body === 'when you are back'), 3000, 'the stored message');
    const replayed = await scrape(srv);
    assert.equal(
      moved(chatted, replayed, 'parley_messages_delivered_total{kind="direct"}')['parley_messages_delivered_total{kind="direct"}'],
      1,
    );
    assert.equal(replayed.get('parley_replays{state="running"}'), 0);
    assert.equal(replayed.get('parley_replay_backlog_messages'), 0);
    assert.equal(replayed.get('parley_users_signed_in'), 4);

    for (const client of [alice, alice2, bob, carol, dave, guesser]) client.close();
    await eventually(async () => (await scrape(srv)).get('parley_connections') === 0, 3000, 'every connection closed');
    const left = await scrape(srv);
    assert.equal(left.get('parley_users_signed_in'), 0);
    assert.equal(left.get('parley_sessions'), 0);
  });

  test('replays at sign-in: sessions running and waiting, and the messages they still hold', { skip: PER_NODE_METRICS }, async (t) => {
    const srv = await startServer({ users: ['alice', 'bob', 'carol'], metrics: { port: 0 } });
    t.after(() => srv.close());
    // About 20 MB: more than the kernel's socket buffers on loopback take from a client that does not read.
    await Promise.all(
      Array.from({ length: 5000 }, (_, i) =>
        srv.server.store.saveMessage({ from: 'alice', kind: 'direct', body: `${i} ${'x'.repeat(3900)}`, sentAt: i, recipients: ['bob'] }),
      ),
    );
    const carol = await srv.signIn('carol');
    // Three windows of bob's that do not read: two replay (a user's most at once), the third waits its turn.
    const windows: ParleyClient[] = [];
    for (let i = 0; i < 3; i++) {
      const bob = await srv.connect();
      await bob.login('bob', 'bob-pw');
      tcpOf(bob).pause();
      windows.push(bob);
    }
    // Until the replays are stuck: the same backlog, scrape after scrape, with two running.
    let stuck: Samples = new Map();
    let still = 0;
    await eventually(
      async () => {
        const now = await scrape(srv);
        const same = now.get('parley_replay_backlog_messages') === stuck.get('parley_replay_backlog_messages');
        still = same && now.get('parley_replays{state="running"}') === 2 ? still + 1 : 0;
        stuck = now;
        return still >= 20;
      },
      20_000,
      'the replays to wait for their clients',
    );
    assert.equal(stuck.get('parley_replays{state="waiting"}'), 1);
    // What a replay has read and not sent yet: at most the rest of a page (it may also wait on a page's last packets).
    const backlog = stuck.get('parley_replay_backlog_messages') ?? 0;
    assert.ok(backlog <= 2 * 100, `at most a page per running replay (${backlog})`);
    // A live message to bob meanwhile is held by each of his windows, the waiting one too, until its replay ends.
    await carol.message('bob', 'live');
    const held = await scrape(srv);
    assert.equal(held.get('parley_replay_backlog_messages'), backlog + 3);

    for (const bob of windows) tcpOf(bob).resume();
    await eventually(async () => (await scrape(srv)).get('parley_replays{state="running"}') === 0, 60_000, 'the replays to end');
    const done = await scrape(srv);
    assert.equal(done.get('parley_replays{state="waiting"}'), 0);
    assert.equal(done.get('parley_replay_backlog_messages'), 0);
    // The two windows that replayed first got all 5 000 and the live one; the third, what they had not acknowledged yet.
    const delivered = done.get('parley_messages_delivered_total{kind="direct"}') ?? 0;
    assert.ok(delivered >= 2 * 5001 && delivered <= 3 * 5001, `${delivered} delivered`);
  });

  test('each server counts its own; only /metrics is served; the port closes with the server', async (t) => {
    const one = await startServer({ users: ['alice', 'bob'], metrics: { port: 0, host: '127.0.0.1' } });
    const two = await startServer({ users: ['alice', 'bob'], metrics: { port: 0 } });
    t.after(() => Promise.all([one.close(), two.close()]));
    const alice = await one.signIn('alice');
    await alice.message('bob', 'on one only');
    assert.equal((await scrape(one)).get('parley_messages_stored_total{kind="direct"}'), 1);
    assert.equal((await scrape(two)).get('parley_messages_stored_total{kind="direct"}'), 0);

    const base = one.server.metricsUrl()!.replace(/\/metrics$/, '');
    for (const path of ['/', '/healthz', '/metrics/x']) assert.equal((await fetch(`${base}${path}`)).status, 404, path);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 404);
    // The metrics port serves no Parley client, and the server port no metrics.
    assert.equal((await fetch(`${one.url}/metrics`)).status, 404);

    alice.close();
    await one.stop();
    await assert.rejects(fetch(`${base}/metrics`), 'nothing listens once the server has closed');
  });

  test('without ServerOptions.metrics, no metrics server', async (t) => {
    const srv = await startServer({ users: ['alice'] });
    t.after(() => srv.close());
    assert.equal(srv.server.metricsUrl(), undefined);
  });
});
