#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ask } from '../tty/line-input';
import { describeIssues, usernameSchema } from '../protocol';
import { normalizeOrigin } from '../protocol/origin';
import { Accounts, passwordProblem } from './accounts';
import { runningServerAdmin, serveAdmin, type AccountAdmin } from './admin-socket';
import { streamLogger } from './log';
import { DEFAULT_SCRYPT_COST } from './passwords';
import { createParleyServer } from './server';
import { openSqliteStore } from './store/sqlite-store';
import { errorMessage } from '../protocol/errors';

const USAGE = `Parley message center

usage:
  parley-server [port] [--host ADDRESS] [--data DIR] [--credentials FILE]
                [--single-session] [--block-time SECONDS] [--timeout SECONDS]
                [--allow-origin ORIGIN]...
                [--tls-cert FILE --tls-key FILE] [--trust-proxy ADDRESS[,ADDRESS...]]
                [--max-connections COUNT]
  parley-server users add|passwd|remove NAME [--data DIR]
  parley-server users list [--data DIR]

  port             port to listen on (default 4000; 0 picks a free one)
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
                   (default: below the process's limit on open files, ulimit -n)

The users commands work on the data directory, or through the server that is running on it (only
the system user that started it can). Passwords are asked for on the terminal, or read as one line
from standard input.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string', default: process.env.PARLEY_DATA ?? '.parley-data' },
      credentials: { type: 'string' },
      'single-session': { type: 'boolean', default: false },
      'block-time': { type: 'string', default: '60' },
      timeout: { type: 'string', default: '1800' },
      'allow-origin': { type: 'string', multiple: true, default: [] },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'trust-proxy': { type: 'string' },
      'max-connections': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals[0] === 'users') return users(positionals.slice(1), values.data);
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

async function users(args: string[], dataDir: string): Promise<number> {
  const [action, name] = args;
  if (!['list', 'add', 'passwd', 'remove'].includes(action ?? '')) throw new UsageError('users takes add, passwd, remove or list');
  if (action !== 'list' && !name) throw new UsageError(`users ${action} needs a username`);
  const running = await runningServerAdmin(dataDir);
  if (running) return manage(running, action!, name);
  const store = await openSqliteStore(dataDir);
  try {
    return await manage(await Accounts.open(store, DEFAULT_SCRYPT_COST, Date.now), action!, name);
  } finally {
    await store.close();
  }
}

async function manage(accounts: AccountAdmin, action: string, name: string | undefined): Promise<number> {
  if (action === 'list') {
    const list = await accounts.list();
    for (const u of list) console.log(`${u.username}\t${u.lastSeen ? `last seen ${new Date(u.lastSeen).toISOString()}` : 'never seen'}`);
    if (list.length === 0) console.log('(no users)');
    return 0;
  }
  if (action === 'remove') {
    if (!(await accounts.remove(name!))) throw new Error(`no user "${name}"`);
    console.log(`Removed ${name}.`);
    return 0;
  }
  // Before the password is asked for: a name that cannot be an account is refused at once.
  const badName = usernameSchema.safeParse(name).error;
  if (badName) throw new UsageError(`"${name}" is not a valid username: ${describeIssues(badName)}`);
  const password = await ask(`Password for ${name}: `, { hidden: true });
  // Checked here too: a password too long for the admin socket's request would be refused with a vaguer error.
  const problem = passwordProblem(password);
  if (problem) throw new UsageError(problem);
  if (action === 'add') await accounts.add(name!, password);
  else await accounts.setPassword(name!, password);
  console.log(action === 'add' ? `Added ${name}.` : `Changed the password of ${name}.`);
  return 0;
}

class UsageError extends Error {}

function toNumber(text: string, what: string, min = 0): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`${what} must be a whole number, not "${text}"`);
  if (n < min) throw new UsageError(`${what} must be at least ${min}`);
  return n;
}

function toOrigin(text: string): string {
  const origin = normalizeOrigin(text);
  if (!origin) throw new UsageError(`--allow-origin takes a web origin such as https://chat.example.org, not "${text}"`);
  return origin;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    const usage = err instanceof UsageError || (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'));
    console.error(`parley-server: ${errorMessage(err)}`);
    if (usage) console.error('Run "parley-server --help" for usage.');
    process.exitCode = usage ? 2 : 1;
  },
);
