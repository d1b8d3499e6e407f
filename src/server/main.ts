#!/usr/bin/env node
import { errorMessage } from '../protocol/errors';
import { configCommand, CONFIG_USAGE } from './program/config-check';
import { backupCommand, BACKUP_USAGE } from './program/backup';
import { exportCommand, EXPORT_USAGE } from './program/export';
import { migrateCommand, MIGRATE_USAGE } from './program/migrate';
import { restoreCommand, RESTORE_USAGE } from './program/restore';
import { serveCommand, SERVE_OPTIONS_HELP, SERVE_USAGE } from './program/serve';
import { UsageError } from './program/usage';
import { usersCommand, USERS_USAGE } from './program/users';

/** `parley-server`'s subcommands, one module each under program/; anything else runs the server. */
const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  users: usersCommand,
  config: configCommand,
  backup: backupCommand,
  restore: restoreCommand,
  export: exportCommand,
  migrate: migrateCommand,
};

const USAGE = `Parley message center

usage:
${SERVE_USAGE}
${USERS_USAGE}
${CONFIG_USAGE}
${BACKUP_USAGE}
${RESTORE_USAGE}
${EXPORT_USAGE}
${MIGRATE_USAGE}

${SERVE_OPTIONS_HELP}

The users commands work on the data directory, or through the server that is running on it (only
the system user that started it can). Passwords are asked for on the terminal, or read as one line
from standard input.

backup writes a consistent copy of the database to a new FILE only its owner can read, through the
running server (its writes wait meanwhile) or from a stopped data directory. restore makes a backup
the database of a data directory no server runs on (--force: replacing the one there). export prints
one user's data as JSON (--out: to a new file only its owner can read). See docs/operations.md.

migrate copies a stopped data directory's database into an empty PostgreSQL database, keeping every id,
for a cluster's nodes to start on. See docs/scaling.md.`;

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const command = argv[0] !== undefined ? COMMANDS[argv[0]] : undefined;
  return command ? command(argv.slice(1)) : serveCommand(argv);
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
