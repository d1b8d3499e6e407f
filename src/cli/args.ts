import { isIP } from 'node:net';

export const USAGE = `Parley terminal client

usage:
  parley HOST PORT          e.g. parley 127.0.0.1 4000
  parley URL                e.g. parley http://chat.example.org:4000
  parley --help

  --peer-host ADDRESS       the interface private chats are accepted on (default: loopback
                            for a server on this machine, else every interface)

Asks for your username and password, then reads commands line by line; type "help" once
signed in for the list. Prompts go to standard error, everything else to standard output,
and when standard input is not a terminal the username and password are read from it.`;

export type CliArgs = { kind: 'help' } | { kind: 'connect'; url: string; peerHost?: string } | { kind: 'usage'; error: string };

/** Reads `parley HOST PORT`, `parley URL` (or `HOST:PORT`), `--peer-host ADDRESS` and `--help`. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  const at = argv.findIndex((a) => a === '--peer-host' || a.startsWith('--peer-host='));
  if (at >= 0) {
    const given = argv[at]!.includes('=') ? argv[at]!.slice('--peer-host='.length) : argv[at + 1];
    if (!given || isIP(given) === 0) return usage(`--peer-host needs an IP address of this machine, not "${given ?? ''}"`);
    const rest = argv.filter((_, i) => i !== at && (i !== at + 1 || argv[at]!.includes('=')));
    const parsed = parseCliArgs(rest);
    return parsed.kind === 'connect' ? { ...parsed, peerHost: given } : parsed;
  }
  const option = argv.find((a) => a.startsWith('-') && a !== '-');
  if (option) return usage(`unknown option ${option}`);
  if (argv.length === 0) return usage('say which server to connect to');
  if (argv.length > 2) return usage(`unexpected arguments: ${argv.slice(2).join(' ')}`);

  if (argv.length === 2) {
    const [host, port] = argv as [string, string];
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) return usage(`"${port}" is not a port number (1-65535)`);
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    return toUrl(`http://${bracketed}:${Number(port)}`, host);
  }

  const target = argv[0]!;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    if (!/^https?:\/\//i.test(target)) return usage(`"${target}" is not an http:// or https:// address`);
    return toUrl(target, target);
  }
  if (/^[^:/\s]+:\d+$/.test(target)) return toUrl(`http://${target}`, target);
  return usage(`"${target}" needs a port: parley ${target} PORT`);
}

function toUrl(candidate: string, given: string): CliArgs {
  try {
    const url = new URL(candidate);
    if (!url.hostname) return usage(`"${given}" has no host`);
    return { kind: 'connect', url: url.origin };
  } catch {
    return usage(`"${given}" is not a valid host or address`);
  }
}

function usage(error: string): CliArgs {
  return { kind: 'usage', error };
}
