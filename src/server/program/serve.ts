import { realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { normalizeOrigin } from '../../protocol/origin';
import { serveAdmin } from '../admin-socket';
import { streamLogger } from '../log';
import { createParleyServer } from '../server';
import { defaultDataDir, toNumber, UsageError } from './usage';

export const SERVE_USAGE = `  parley-server [port] [--host ADDRESS] [--data DIR] [--credentials FILE]
                [--single-session] [--block-time SECONDS] [--timeout SECONDS]
                [--allow-origin ORIGIN]...
                [--tls-cert FILE --tls-key FILE] [--trust-proxy ADDRESS[,ADDRESS...]]
                [--max-connections COUNT]`;

export const SERVE_OPTIONS_HELP = `  port             port to listen on (default 4000; 0 picks a free one)
  --host           interface to listen on (default 127.0.0.1; 0.0.0.0 lets others on the network join)
  --data           where the database lives (default $PARLEY_DATA or ./.parley-data)
  --credentials    a "username password" file whose users are added at start
  --single-session refuse a second sign-in of a user who is already online
  --block-time     lockout after 3 wrong passwords, in seconds (default 60)
  --timeout        sign out a session after this many seconds without a command (default 1800; 0: never)
  --allow-origin   a web origin (e.g. https://chat.example.org) whose pages may connect; repeatable.
                   Connections from any other web page are refused (default: none allowed)
  --tls-cert       serve https/wss with this PEM certificate (chain); reloaded when the file changes
  --tls-key        the PEM private key of --tls-cert
  --trust-proxy    reverse proxies (IP addresses) whose X-Forwarded-For header gives the client's address
  --max-connections open connections the server holds at once, from everyone; more are closed as they arrive
                   (default: below the process's limit on open files, ulimit -n)`;

/** `parley-server [port] …`: runs the message center until SIGINT or SIGTERM. */
export async function serveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string', default: defaultDataDir() },
      credentials: { type: 'string' },
      'single-session': { type: 'boolean', default: false },
      'block-time': { type: 'string', default: '60' },
      timeout: { type: 'string', default: '1800' },
      'allow-origin': { type: 'string', multiple: true, default: [] },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'trust-proxy': { type: 'string' },
      'max-connections': { type: 'string' },
    },
  });
  if (positionals.length > 1) throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(' ')}`);

  const port = toNumber(positionals[0] ?? '4000', 'port');
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const trustProxy = values['trust-proxy']?.split(',').map((a) => a.trim());
  const log = streamLogger();
  const server = await createParleyServer({
    port,
    host: values.host,
    dataDir: values.data,
    singleSession: values['single-session'],
    timings: {
      blockMs: toNumber(values['block-time'], '--block-time', 1) * 1000,
      idleTimeoutMs: toNumber(values.timeout, '--timeout') * 1000,
    },
    ...(values.credentials !== undefined && { credentialsFile: values.credentials }),
    allowedOrigins: values['allow-origin'].map(toOrigin),
    ...(cert !== undefined && key !== undefined && { tls: { cert, key } }),
    ...(trustProxy && { trustProxy }),
    ...(values['max-connections'] !== undefined && { maxConnections: toNumber(values['max-connections'], '--max-connections', 1) }),
    log,
  });
  await server.listen();
  const admin = await serveAdmin(realpathSync(values.data), server.accounts, log);
  console.log('Parley message center is running. Clients can connect to:');
  for (const url of server.urls()) console.log(`  ${url}`);
  if (values.host === '127.0.0.1' || values.host === 'localhost') {
    console.log('Only this machine can connect; start with --host 0.0.0.0 to let others on the network join.');
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: telling clients and flushing storage...`);
    Promise.all([admin?.close(), server.close()]).then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return -1; // keep running
}

function toOrigin(text: string): string {
  const origin = normalizeOrigin(text);
  if (!origin) throw new UsageError(`--allow-origin takes a web origin such as https://chat.example.org, not "${text}"`);
  return origin;
}
