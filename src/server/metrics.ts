import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Meter, Tally } from './meter';
import type { Store } from './store/store';

/** What the metrics read from the server when they are scraped. */
export interface MetricSources {
  meter: Meter;
  store: Store;
  /** Open Socket.IO connections, signed in or not. */
  connections(): number;
  /** Users with at least one session, and the sessions. */
  users(): number;
  sessions(): number;
  replays(): { running: number; waiting: number; backlog: number };
}

export interface MetricsServer {
  /** Starts listening; resolves with the bound address. */
  listen(): Promise<AddressInfo>;
  /** The scrape URL once listening, e.g. http://127.0.0.1:9464/metrics. */
  url(): string | undefined;
  close(): Promise<void>;
}

/** Commit times from a quick fsync to a disk that stalls. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Prometheus metrics (docs/monitoring.md) on an HTTP server of their own, `/metrics` only. A registry per
 * server, so that several servers in one process (the tests) each count their own.
 */
export function createMetricsServer(at: { port: number; host?: string }, sources: MetricSources): MetricsServer {
  const register = new Registry();
  collectDefaultMetrics({ register });
  define(register, sources);

  const http: HttpServer = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?', 1)[0] !== '/metrics') {
      return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Parley metrics: GET /metrics\n');
    }
    register.metrics().then(
      (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
    );
  });
  http.headersTimeout = http.requestTimeout = 10_000;

  return {
    listen: () =>
      new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(at.port, at.host ?? '127.0.0.1', () => {
          http.off('error', reject);
          resolve(http.address() as AddressInfo);
        });
      }),
    url: () => {
      const address = http.address();
      if (!address || typeof address === 'string') return undefined;
      const host = address.address.includes(':') ? `[${address.address}]` : address.address;
      return `http://${host}:${address.port}/metrics`;
    },
    close: () =>
      new Promise((resolve) => {
        if (!http.listening) return resolve();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

function define(register: Registry, sources: MetricSources): void {
  const { meter, store } = sources;
  const registers = [register];
  const counter = <K extends string>(name: string, help: string, label: string, tally: Tally<K>): void => {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of tally.entries()) this.inc({ [label]: key }, n);
      },
    });
  };
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  };

  gauge('parley_connections', 'Open Socket.IO connections, signed in or not.', sources.connections);
  gauge('parley_users_signed_in', 'Users with at least one session.', sources.users);
  gauge('parley_sessions', 'Signed-in sessions (a user may have several).', sources.sessions);
  counter('parley_requests_total', 'Requests received, by kind (the request name; unknown for any other event).', 'kind', meter.requests);
  counter('parley_request_errors_total', 'Requests answered with a failure, by error code.', 'code', meter.errors);
  counter('parley_messages_stored_total', 'New messages stored, by kind.', 'kind', meter.stored);
  counter(
    'parley_messages_delivered_total',
    'Messages written to a session, live or replayed, one per session, by kind.',
    'kind',
    meter.delivered,
  );
  counter('parley_connections_refused_total', 'Connections refused before sign-in, by reason.', 'reason', meter.refused);
  new Counter({
    name: 'parley_lockouts_total',
    help: 'Lockouts begun: a username locked from an address after too many wrong passwords.',
    registers,
    collect() {
      this.reset();
      this.inc(meter.lockouts);
    },
  });
  new Gauge({
    name: 'parley_replays',
    help: 'Sessions replaying their stored messages after sign-in (running), and waiting for their turn (waiting).',
    labelNames: ['state'],
    registers,
    collect() {
      const { running, waiting } = sources.replays();
      this.set({ state: 'running' }, running);
      this.set({ state: 'waiting' }, waiting);
    },
  });
  gauge(
    'parley_replay_backlog_messages',
    'Messages replays have read and not sent yet, and live messages held until a replay ends.',
    () => sources.replays().backlog,
  );
  gauge('parley_store_writable', '1 when the store is open and its last commit went through, else 0 (what /readyz says).', () =>
    store.health().ok ? 1 : 0,
  );

  const commits = new Histogram({
    name: 'parley_store_commit_seconds',
    help: 'Time of each store commit, BEGIN to COMMIT with its fsync.',
    buckets: COMMIT_BUCKETS,
    registers,
  });
  const failures = new Counter({ name: 'parley_store_commit_failures_total', help: 'Store commits that failed.', registers });
  store.onCommit((commit) => {
    commits.observe(commit.seconds);
    if (!commit.ok) failures.inc();
  });
}
