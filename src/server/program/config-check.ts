import { parseArgs } from 'node:util';
import { resolveFile } from './resolve-settings';
import { UsageError } from './usage';

export const CONFIG_USAGE = `  parley-server config check FILE`;

/**
 * `parley-server config check FILE`: reads a configuration file as a start would, and says what is wrong with it
 * in the same words (exit code 1), or which settings it sets (0). The environment and flags play no part.
 */
export async function configCommand(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, allowPositionals: true, options: {} });
  const [action, file, ...rest] = positionals;
  if (action !== 'check') throw new UsageError('config takes check');
  if (file === undefined) throw new UsageError('config check needs a file');
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  let names: string[];
  try {
    names = Object.keys(resolveFile(file).given);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`parley-server: ${err.message}`);
    return 1;
  }
  console.log(`${file} is a valid configuration; it sets ${names.length === 0 ? 'nothing' : names.join(', ')}.`);
  return 0;
}
