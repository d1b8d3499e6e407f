import { normalizeOrigin } from '../../protocol/origin';
import { redactUrl } from '../redact';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log';
import {
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_PENDING_PER_SENDER,
  DEFAULT_RATE_LIMIT,
  DEFAULT_SIGN_IN_LIMITS,
  DEFAULT_TIMINGS,
  type ServerOptions,
} from '../options';

/**
 * What the settings build: the server's options, its log, and the pairs that become one option only
 * when both halves are known (see `finish` in resolve-settings.ts).
 */
export interface ServeSettings {
  server: ServerOptions;
  log: { level: LogLevel; format: LogFormat };
  tls: { cert?: string; key?: string };
  metrics: { port?: number; host?: string };
  cluster: { url?: string; heartbeatMs?: number };
}

interface Base<T> {
  /** The long flag (`--name`) and the configuration file's key. */
  name: string;
  /** The flag's argument in `--help` (SECONDS, FILE...). */
  arg: string;
  /** One line for `--help`, the example file and docs/configuration.md. */
  help: string;
  /** Applied when no source sets it. None: the server's own behaviour, which `shown` then describes. */
  default?: T;
  /** The default in words, where the value alone would not say it (or there is none). */
  shown?: string;
  /** A value for deploy/parley.toml, where there is no default to show. */
  example?: T;
  /** Other flags for the same setting (not keys of the file). */
  aliases?: readonly string[];
  /** What is wrong with a well-typed value, said after the setting's name; undefined when nothing is. */
  check?(value: T): string | undefined;
  /** How the value maps onto the server's options. */
  apply(settings: ServeSettings, value: T): void;
  /** The value as the start's log line shows it, where the value itself must not be (a password in a URL). */
  logged?(value: T): string;
}

export type Setting =
  | (Base<number> & { type: 'integer'; min: number; max?: number })
  | (Base<number> & { type: 'rate' })
  | (Base<boolean> & { type: 'boolean' })
  | (Base<string> & { type: 'string' })
  | (Base<string> & { type: 'choice'; choices: readonly string[] })
  | (Base<readonly string[]> & { type: 'list' });

export type SettingValue = number | boolean | string | readonly string[];

/** The environment variable that sets a setting: PARLEY_ and its name in capitals, `-` as `_`. */
export function envName(setting: Pick<Setting, 'name'>): string {
  return `PARLEY_${setting.name.toUpperCase().replaceAll('-', '_')}`;
}

/** A setting of `ServerOptions.timings` given in seconds, with its default. */
function timingInSeconds(key: 'blockMs' | 'idleTimeoutMs' | 'signInDeadlineMs' | 'heartbeatIntervalMs' | 'heartbeatTimeoutMs') {
  return {
    default: DEFAULT_TIMINGS[key] / 1000,
    apply: (s: ServeSettings, v: number) => (s.server.timings = { ...s.server.timings, [key]: v * 1000 }),
  };
}

/** A setting of `ServerOptions.signInLimits`, with its default. */
function signInLimit(key: 'burst' | 'perSecond') {
  return {
    default: DEFAULT_SIGN_IN_LIMITS[key],
    apply: (s: ServeSettings, v: number) => (s.server.signInLimits = { ...s.server.signInLimits, [key]: v }),
  };
}

/**
 * Every setting of `parley-server`, in the order `--help`, the example file and the docs list them. The flags,
 * the environment, the configuration file and those texts are all read from here (test/server-settings.test.ts).
 */
export const SETTINGS: readonly Setting[] = [
  {
    name: 'port',
    type: 'integer',
    min: 0,
    max: 65535,
    arg: 'PORT',
    default: 4000,
    help: 'port to listen on; 0 picks a free one (also the first argument)',
    apply: (s, v) => (s.server.port = v),
  },
  {
    name: 'host',
    type: 'string',
    arg: 'ADDRESS',
    default: '127.0.0.1',
    help: 'interface to listen on; 0.0.0.0 lets others on the network join',
    apply: (s, v) => (s.server.host = v),
  },
  {
    name: 'data',
    type: 'string',
    arg: 'DIR',
    default: '.parley-data',
    shown: './.parley-data',
    example: '/var/lib/parley',
    help: 'where the database lives',
    apply: (s, v) => (s.server.dataDir = v),
  },
  {
    name: 'postgres',
    type: 'string',
    arg: 'URL',
    shown: 'none: one server, on SQLite in --data',
    example: 'postgres://parley@db.example.com/parley',
    help: 'cluster mode: this server is one node of several keeping everything in this PostgreSQL database (docs/scaling.md)',
    check: (v) => (/^postgres(ql)?:\/\/./.test(v) ? undefined : 'must be a postgres:// URL'),
    logged: redactUrl,
    apply: (s, v) => (s.cluster.url = v),
  },
  {
    name: 'node-heartbeat',
    type: 'integer',
    min: 1,
    max: 600,
    arg: 'SECONDS',
    default: 10,
    help: 'cluster mode: how often a node tells the others it is alive; one silent for 1.5 times this is taken out, its users offline',
    apply: (s, v) => (s.cluster.heartbeatMs = v * 1000),
  },
  {
    name: 'credentials',
    type: 'string',
    arg: 'FILE',
    shown: 'none',
    example: '/etc/parley/user_pass.txt',
    help: 'a "username password" file whose users are added at start',
    apply: (s, v) => (s.server.credentialsFile = v),
  },
  {
    name: 'single-session',
    type: 'boolean',
    arg: '',
    default: false,
    shown: 'off',
    help: 'refuse a second sign-in of a user who is already online',
    apply: (s, v) => (s.server.singleSession = v),
  },
  {
    name: 'lock-time',
    aliases: ['block-time'],
    type: 'integer',
    min: 1,
    arg: 'SECONDS',
    help: 'seconds a username stays locked from an address after wrong passwords',
    ...timingInSeconds('blockMs'),
  },
  {
    name: 'lock-after',
    type: 'integer',
    min: 1,
    arg: 'COUNT',
    default: DEFAULT_TIMINGS.maxLoginFailures,
    help: 'wrong passwords in a row that lock a username from an address',
    apply: (s, v) => (s.server.timings = { ...s.server.timings, maxLoginFailures: v }),
  },
  {
    name: 'timeout',
    type: 'integer',
    min: 0,
    arg: 'SECONDS',
    help: 'sign out a session after this many seconds without a command; 0: never',
    ...timingInSeconds('idleTimeoutMs'),
  },
  {
    name: 'allow-origin',
    type: 'list',
    arg: 'ORIGIN',
    shown: 'none',
    example: ['https://chat.example.org'],
    help: 'web origins (https://chat.example.org) whose pages may connect; pages of any other are refused',
    check: (origins) => {
      const bad = origins.find((o) => !normalizeOrigin(o));
      return bad === undefined ? undefined : `takes a web origin such as https://chat.example.org, not "${bad}"`;
    },
    apply: (s, v) => (s.server.allowedOrigins = v.map((o) => normalizeOrigin(o)!)),
  },
  {
    name: 'tls-cert',
    type: 'string',
    arg: 'FILE',
    shown: 'none: plain http',
    example: '/etc/parley/server.pem',
    help: 'serve https and wss with this PEM certificate (chain), reloaded when the file changes',
    apply: (s, v) => (s.tls.cert = v),
  },
  {
    name: 'tls-key',
    type: 'string',
    arg: 'FILE',
    shown: 'none',
    example: '/etc/parley/server.key',
    help: 'the PEM private key of tls-cert',
    apply: (s, v) => (s.tls.key = v),
  },
  {
    name: 'trust-proxy',
    type: 'list',
    arg: 'ADDRESS',
    shown: 'none',
    example: ['127.0.0.1'],
    help: "reverse proxies (IP addresses) whose X-Forwarded-For header gives the client's address",
    apply: (s, v) => (s.server.trustProxy = [...v]),
  },
  {
    name: 'max-connections',
    type: 'integer',
    min: 1,
    arg: 'COUNT',
    shown: 'below ulimit -n',
    example: 10000,
    help: 'open connections the server holds at once, from everyone; more are closed as they arrive',
    apply: (s, v) => (s.server.maxConnections = v),
  },
  {
    name: 'max-connections-per-address',
    type: 'integer',
    min: 1,
    arg: 'COUNT',
    default: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
    help: 'open connections one address may hold; more are refused',
    apply: (s, v) => (s.server.maxConnectionsPerAddress = v),
  },
  {
    name: 'send-burst',
    type: 'integer',
    min: 1,
    arg: 'COUNT',
    default: DEFAULT_RATE_LIMIT.burst,
    help: 'messages (direct, broadcast, channel posts) one user may send at once, across their sessions',
    apply: (s, v) => (s.server.sendRate = { ...(s.server.sendRate ?? DEFAULT_RATE_LIMIT), burst: v }),
  },
  {
    name: 'send-per-second',
    type: 'rate',
    arg: 'RATE',
    default: DEFAULT_RATE_LIMIT.perSecond,
    help: 'messages one user may send per second after send-burst',
    apply: (s, v) => (s.server.sendRate = { ...(s.server.sendRate ?? DEFAULT_RATE_LIMIT), perSecond: v }),
  },
  {
    name: 'max-pending-per-sender',
    type: 'integer',
    min: 1,
    arg: 'COUNT',
    default: DEFAULT_MAX_PENDING_PER_SENDER,
    help: 'messages one sender may have waiting for one recipient; more are refused (QUEUE_FULL)',
    apply: (s, v) => (s.server.maxPendingPerSender = v),
  },
  {
    name: 'sign-in-burst',
    type: 'integer',
    min: 1,
    arg: 'COUNT',
    help: 'sign-ins with a password one address may try at once, across all usernames',
    ...signInLimit('burst'),
  },
  {
    name: 'sign-in-per-second',
    type: 'rate',
    arg: 'RATE',
    help: 'sign-ins with a password one address may try per second after sign-in-burst',
    ...signInLimit('perSecond'),
  },
  {
    name: 'password-checks',
    type: 'integer',
    min: 1,
    arg: 'COUNT',
    shown: 'the CPU cores, at most 4',
    example: 4,
    help: 'password checks (scrypt, 128 MiB and most of a core each) running at once',
    apply: (s, v) => (s.server.signInLimits = { ...s.server.signInLimits, concurrentChecks: v }),
  },
  {
    name: 'sign-in-deadline',
    type: 'integer',
    min: 1,
    max: 3600,
    arg: 'SECONDS',
    help: 'seconds a connection has to sign in after it opened before it is closed',
    ...timingInSeconds('signInDeadlineMs'),
  },
  {
    name: 'heartbeat-interval',
    type: 'integer',
    min: 1,
    max: 3600,
    arg: 'SECONDS',
    help: 'seconds between pings to each client',
    ...timingInSeconds('heartbeatIntervalMs'),
  },
  {
    name: 'heartbeat-timeout',
    type: 'integer',
    min: 1,
    max: 3600,
    arg: 'SECONDS',
    help: 'seconds a client has to answer a ping before it is taken as gone',
    ...timingInSeconds('heartbeatTimeoutMs'),
  },
  {
    name: 'retain-days',
    type: 'integer',
    min: 1,
    arg: 'DAYS',
    shown: 'keep forever',
    example: 365,
    help: 'delete messages older than this many days, except direct messages still waiting for delivery',
    apply: (s, v) => (s.server.retainDays = v),
  },
  {
    name: 'metrics-port',
    type: 'integer',
    min: 0,
    max: 65535,
    arg: 'PORT',
    shown: 'off',
    example: 9464,
    help: 'serve Prometheus metrics on this port (docs/monitoring.md)',
    apply: (s, v) => (s.metrics.port = v),
  },
  {
    name: 'metrics-host',
    type: 'string',
    arg: 'ADDRESS',
    shown: '127.0.0.1',
    example: '127.0.0.1',
    help: 'interface of the metrics port',
    apply: (s, v) => (s.metrics.host = v),
  },
  {
    name: 'log-level',
    type: 'choice',
    choices: LOG_LEVELS,
    arg: 'LEVEL',
    default: 'info',
    help: `${LOG_LEVELS.join(', ')}: this level and those before it are logged`,
    apply: (s, v) => (s.log.level = v as LogLevel),
  },
  {
    name: 'log-format',
    type: 'choice',
    choices: LOG_FORMATS,
    arg: 'FORMAT',
    default: 'text',
    help: 'text, or json: one JSON object per line (time, level, message, fields) for log collectors',
    apply: (s, v) => (s.log.format = v as LogFormat),
  },
];

/** A setting's default as `--help` and the docs say it. */
export function describeDefault(setting: Setting): string {
  if (setting.shown !== undefined) return setting.shown;
  if (setting.default === undefined) return 'none';
  return Array.isArray(setting.default) ? setting.default.join(', ') : String(setting.default);
}
