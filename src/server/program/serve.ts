import { realpathSync } from 'node:fs';
import { serveAdmin } from '../admin-socket';
import { streamLogger } from '../log';
import { createParleyServer } from '../server';
import { loggable, resolveSettings } from './resolve-settings';
import { describeDefault, SETTINGS } from './settings';

export const SERVE_USAGE = `  parley-server [port] [--config FILE] [--OPTION VALUE]...`;

export const SERVE_OPTIONS_HELP = [
  `  --config FILE\n      read settings from this TOML file, whose keys are the options' names (see deploy/parley.toml)`,
  ...SETTINGS.map((s) => {
    const aliases = (s.aliases ?? []).map((a) => ` (or --${a})`).join('');
    return `  --${s.name}${s.arg ? ` ${s.arg}` : ''}${aliases}\n      ${s.help} (default ${describeDefault(s)})`;
  }),
  '',
  `A list option (--allow-origin, --trust-proxy) is repeatable and takes items separated by commas. Each option
can also be set by a PARLEY_ variable (PARLEY_LOCK_TIME for --lock-time; true or false for a switch): a flag
wins over the variable, and the variable over the --config file (docs/configuration.md).`,
].join('\n');

/** `parley-server [port] …`: runs the message center until SIGINT or SIGTERM. */
export async function serveCommand(argv: string[]): Promise<number> {
  const { settings, given } = resolveSettings(argv);
  const log = streamLogger(undefined, settings.log);
  log.info('settings', loggable(given) as Record<string, unknown>);
  const server = await createParleyServer({ ...settings.server, log });
  await server.listen();
  // A node of a cluster keeps nothing in a data directory: it is administered through the database (docs/scaling.md).
  const admin = settings.server.cluster ? undefined : await serveAdmin(realpathSync(settings.server.dataDir!), server.accounts, log);
  console.log('Parley message center is running. Clients can connect to:');
  for (const url of server.urls()) console.log(`  ${url}`);
  if (settings.server.host === '127.0.0.1' || settings.server.host === 'localhost') {
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
