import { parseArgs } from 'node:util';
import { describeIssues, usernameSchema } from '../../protocol';
import { ask } from '../../tty/line-input';
import { Accounts, passwordProblem } from '../accounts';
import { runningServerAdmin, type AccountAdmin } from '../admin-socket';
import { DEFAULT_SCRYPT_COST } from '../passwords';
import { openSqliteStore } from '../store/sqlite-store';
import { defaultDataDir, UsageError } from './usage';

export const USERS_USAGE = `  parley-server users add|passwd|remove NAME [--data DIR]
  parley-server users list [--data DIR]`;

/** `parley-server users …`: through the server running on the data directory, or on its database when none is. */
export async function usersCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { data: { type: 'string', default: defaultDataDir() } },
  });
  const [action, name, ...rest] = positionals;
  if (!['list', 'add', 'passwd', 'remove'].includes(action ?? '')) throw new UsageError('users takes add, passwd, remove or list');
  if (action !== 'list' && !name) throw new UsageError(`users ${action} needs a username`);
  if (rest.length > 0 || (action === 'list' && name))
    throw new UsageError(`unexpected arguments: ${[name, ...rest].filter(Boolean).join(' ')}`);
  const running = await runningServerAdmin(values.data);
  if (running) return manage(running, action!, name);
  const store = await openSqliteStore(values.data);
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
