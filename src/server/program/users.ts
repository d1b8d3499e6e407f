import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { describeIssues, usernameSchema } from '../../protocol';
import { errorMessage } from '../../protocol/errors';
import { ask } from '../../tty/line-input';
import { Accounts, importProgressLine, passwordProblem } from '../accounts';
import { runningServerAdmin, type AccountAdmin } from '../admin-socket';
import { DEFAULT_SCRYPT_COST } from '../passwords';
import { redactUrl } from '../redact';
import { openSqliteStore } from '../store/sqlite-store';
import { storeOf, STORE_OPTIONS, STORE_USAGE } from './data-dir-option';
import { printable, UsageError } from './usage';

export const USERS_USAGE = `  parley-server users add|passwd|remove NAME ${STORE_USAGE}
  parley-server users list ${STORE_USAGE}
  parley-server users import FILE ${STORE_USAGE}`;

type Work = (accounts: AccountAdmin) => Promise<number>;

/**
 * `parley-server users …`: on a cluster's database, told to its running nodes; else through the server running on
 * the data directory, or on its database when none is.
 */
export async function usersCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...STORE_OPTIONS },
  });
  const store = storeOf(values);
  const [action, name, ...rest] = positionals;
  if (!['list', 'add', 'passwd', 'remove', 'import'].includes(action ?? ''))
    throw new UsageError('users takes add, passwd, remove, list or import');
  if (action !== 'list' && !name) throw new UsageError(`users ${action} needs a ${action === 'import' ? 'file' : 'username'}`);
  if (rest.length > 0 || (action === 'list' && name))
    throw new UsageError(`unexpected arguments: ${[name, ...rest].filter(Boolean).join(' ')}`);
  // The file is read here, by whoever runs the command, also when a running server imports it.
  const work: Work = action === 'import' ? importUsers(await readFile(name!, 'utf8')) : (accounts) => manage(accounts, action!, name);
  if ('postgres' in store) return onCluster(store.postgres, work);
  const running = await runningServerAdmin(store.dataDir);
  if (running) return work(running);
  const sqlite = await openSqliteStore(store.dataDir);
  try {
    return await work(await Accounts.open(sqlite, DEFAULT_SCRYPT_COST, Date.now));
  } finally {
    await sqlite.close();
  }
}

/**
 * On the cluster's database itself (no node holds the accounts alone): each change, once stored, is told to the running
 * nodes, which apply it at once (docs/scaling.md "Administering a cluster"). pg loads only here, as in the server.
 */
async function onCluster(url: string, work: Work): Promise<number> {
  const { openPgStore } = await import('../store/pg-store');
  const { notifyNodes } = await import('../cluster/notify-nodes');
  const unreachable = (err: unknown): never => {
    throw new Error(`could not reach the database ${redactUrl(url)}: ${errorMessage(err)}`);
  };
  // The notifier connects first: it gives up on a database that does not answer, where the store would wait on.
  const nodes = await notifyNodes(url).catch(unreachable);
  try {
    const store = await openPgStore(url, { maxConnections: 2 }).catch(unreachable);
    try {
      const accounts = await Accounts.open(store, DEFAULT_SCRYPT_COST, Date.now);
      accounts.onChanged((user, change) => nodes.tell(user, change));
      return await work(accounts);
    } finally {
      await store.close();
    }
  } finally {
    await nodes.close();
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

/** `users import FILE`: exits 1 when a line was skipped, after importing the rest. */
function importUsers(text: string): (accounts: AccountAdmin) => Promise<number> {
  return async (accounts) => {
    const report = await accounts.importCredentials(text, { progress: (done, total) => console.log(importProgressLine(done, total)) });
    console.log(`Added ${count(report.added.length)}.`);
    if (report.existing.length > 0)
      console.log(`Left alone ${count(report.existing.length, 'existing user')}: ${report.existing.join(', ')}.`);
    for (const { line, reason } of report.rejected) console.error(`Skipped line ${line}: ${printable(reason)}`);
    return report.rejected.length > 0 ? 1 : 0;
  };
}

function count(n: number, what = 'user'): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}
