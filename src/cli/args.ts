import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { normalizeOrigin } from '../protocol/origin';

export const USAGE = `Parley terminal client

usage:
  parley HOST PORT          e.g. parley 127.0.0.1 4000
  parley URL                e.g. parley https://chat.example.org:4000
  parley --help

  --tls                     connect with TLS (https/wss) to HOST PORT
  --ca FILE                 trust the server's certificate if this CA (PEM) signed it, as for
                            a team server with its own CA; implies --tls
  --peer-host ADDRESS       the interface private chats are accepted on (default: loopback
                            for a server on this machine, else every interface)

Asks for your username and password, then reads commands line by line; type "help" once
signed in for the list. Prompts go to standard error, everything else to standard output,
and when standard input is not a terminal the username and password are read from it.`;

export type CliArgs =
  { kind: 'help' } | { kind: 'connect'; url: string; peerHost?: string; ca?: string } | { kind: 'usage'; error: string };

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  'peer-host': { type: 'string' },
} as const;

/** Reads `parley HOST PORT`, `parley URL` (or `HOST:PORT`), `--peer-host ADDRESS`, `--ca FILE`, `--tls` and `--help`. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  // Not strict: the checks below say what each option needs, in the client's words rather than parseArgs'.
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  if (values.help === true) return { kind: 'help' };
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (!Object.hasOwn(OPTIONS, token.name)) return usage(`unknown option ${token.rawName}`);
    if (seen.has(token.name)) return usage(`${token.rawName} is given twice`);
    seen.add(token.name);
  }
  const { tls, ca, 'peer-host': peerHost } = values;
  if (typeof tls === 'string') return usage('--tls takes no value');
  if (peerHost !== undefined && (typeof peerHost !== 'string' || isIP(peerHost) === 0))
    return usage(`--peer-host needs an IP address of this machine, not "${typeof peerHost === 'string' ? peerHost : ''}"`);
  if (ca !== undefined && (typeof ca !== 'string' || ca === ''))
    return usage("--ca needs the file of the CA certificate that signed the server's");
  const parsed = parseTarget(positionals, tls === true || ca !== undefined);
  if (parsed.kind !== 'connect') return parsed;
  return { ...parsed, ...(peerHost !== undefined && { peerHost }), ...(ca !== undefined && { ca }) };
}

/** The server's address; `tls` (from --tls or --ca) makes `HOST PORT` an https:// one, and refuses an http:// URL. */
function parseTarget(argv: readonly string[], tls: boolean): CliArgs {
  if (argv.length === 0) return usage('say which server to connect to');
  if (argv.length > 2) return usage(`unexpected arguments: ${argv.slice(2).join(' ')}`);
  const scheme = tls ? 'https' : 'http';

  if (argv.length === 2) {
    const [host, port] = argv as [string, string];
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) return usage(`"${port}" is not a port number (1-65535)`);
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return toUrl(`${scheme}://${bracketed}:${Number(port)}`, host);
  }

  const target = argv[0]!;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    if (!/^https?:\/\//i.test(target)) return usage(`"${target}" is not an http:// or https:// address`);
    if (tls && /^http:/i.test(target)) return usage(`--tls and --ca are for https:// servers, not "${target}"`);
    return toUrl(target, target);
  }
  if (/^[^:/\s]+:\d+$/.test(target)) return toUrl(`${scheme}://${target}`, target);
  return usage(`"${target}" needs a port: parley ${target} PORT`);
}

function toUrl(candidate: string, given: string): CliArgs {
  const url = normalizeOrigin(candidate);
  return url ? { kind: 'connect', url } : usage(`"${given}" is not a valid host or address`);
}

function usage(error: string): CliArgs {
  return { kind: 'usage', error };
}
