import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { describeIssues, usernameSchema } from '../../protocol';
import { ask } from '../../tty/line-input';
import { Accounts, importProgressLine, passwordProblem } from '../accounts';
import { runningServerAdmin, type AccountAdmin } from '../admin-socket';
import { DEFAULT_SCRYPT_COST } from '../passwords';
import { openSqliteStore } from '../store/sqlite-store';
import { dataDirOf, DATA_DIR_OPTIONS, DATA_DIR_USAGE } from './data-dir-option';
import { printable, UsageError } from './usage';

export const USERS_USAGE = `  parley-server users add|passwd|remove NAME ${DATA_DIR_USAGE}
  parley-server users list ${DATA_DIR_USAGE}
  parley-server users import FILE ${DATA_DIR_USAGE}`;

/** `parley-server users …`: through the server running on the data directory, or on its database when none is. */
export async function usersCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...DATA_DIR_OPTIONS },
  });
  const dataDir = dataDirOf(values);
  const [action, name, ...rest] = positionals;
  if (!['list', 'add', 'passwd', 'remove', 'import'].includes(action ?? ''))
    throw new UsageError('users takes add, passwd, remove, list or import');
  if (action !== 'list' && !name) throw new UsageError(`users ${action} needs a ${action === 'import' ? 'file' : 'username'}`);
  if (rest.length > 0 || (action === 'list' && name))
    throw new UsageError(`unexpected arguments: ${[name, ...rest].filter(Boolean).join(' ')}`);
  // The file is read here, by whoever runs the command, also when a running server imports it.
  const work =
    action === 'import' ? importUsers(await readFile(name!, 'utf8')) : (accounts: AccountAdmin) => manage(accounts, action!, name);
  const running = await runningServerAdmin(dataDir);
  if (running) return work(running);
  const store = await openSqliteStore(dataDir);
  try {
    return await work(await Accounts.open(store, DEFAULT_SCRYPT_COST, Date.now));
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
