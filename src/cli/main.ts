#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { ParleyClient } from '../client/parley-client';
import { USAGE, parseCliArgs } from './args';
import { sanitize } from './format';
import { TerminalClient } from './terminal-client';
import { errorDetail } from '../protocol/errors';

async function main(argv: string[]): Promise<number> {
  const args = parseCliArgs(argv);
  if (args.kind === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (args.kind === 'usage') {
    process.stderr.write(`parley: ${args.error}\n\n${USAGE}\n`);
    return 2;
  }
  let ca: string | undefined;
  try {
    ca = args.ca === undefined ? undefined : readFileSync(args.ca, 'utf8');
  } catch (err) {
    process.stderr.write(`parley: cannot read the CA certificate ${args.ca}: ${(err as Error).message}\n`);
    return 2;
  }
  const terminal = new TerminalClient(
    new ParleyClient(args.url, ca === undefined ? {} : { socket: { ca } }),
    {
      input: process.stdin,
      output: process.stdout,
      prompts: process.stderr,
    },
    { private: args.peerHost === undefined ? {} : { host: args.peerHost } },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => terminal.interrupt());
  return terminal.run();
}

// A reader that went away (`parley ... | head`) is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));

main(process.argv.slice(2)).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (err: unknown) => {
    process.stderr.write(`parley: ${sanitize(errorDetail(err))}\n`);
    process.exit(1);
  },
);
