import { isIP } from 'node:net';

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

/** Reads `parley HOST PORT`, `parley URL` (or `HOST:PORT`), `--peer-host ADDRESS`, `--ca FILE`, `--tls` and `--help`. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  const peerHost = takeValue(argv, '--peer-host');
  if (peerHost.kind === 'usage') return peerHost;
  const ca = takeValue(peerHost.rest, '--ca');
  if (ca.kind === 'usage') return ca;
  const given = peerHost.value;
  if (given !== undefined && isIP(given) === 0) return usage(`--peer-host needs an IP address of this machine, not "${given}"`);
  if (ca.value === '') return usage("--ca needs the file of the CA certificate that signed the server's");
  const tls = ca.rest.includes('--tls') || ca.value !== undefined;
  const parsed = parseTarget(
    ca.rest.filter((a) => a !== '--tls'),
    tls,
  );
  if (parsed.kind !== 'connect') return parsed;
  return { ...parsed, ...(given !== undefined && { peerHost: given }), ...(ca.value !== undefined && { ca: ca.value }) };
}

/** `--name VALUE` or `--name=VALUE` taken out of argv; `value` is '' when the option has none. */
function takeValue(
  argv: readonly string[],
  name: string,
): { kind: 'taken'; value: string | undefined; rest: readonly string[] } | { kind: 'usage'; error: string } {
  const at = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (at < 0) return { kind: 'taken', value: undefined, rest: argv };
  const inline = argv[at]!.includes('=');
  const value = inline ? argv[at]!.slice(name.length + 1) : (argv[at + 1] ?? '');
  if (argv.slice(at + 1).some((a) => a === name || a.startsWith(`${name}=`))) return { kind: 'usage', error: `${name} is given twice` };
  return { kind: 'taken', value, rest: argv.filter((_, i) => i !== at && (inline || i !== at + 1)) };
}

/** The server's address; `tls` (from --tls or --ca) makes `HOST PORT` an https:// one, and refuses an http:// URL. */
function parseTarget(argv: readonly string[], tls: boolean): CliArgs {
  const option = argv.find((a) => a.startsWith('-') && a !== '-');
  if (option) return usage(`unknown option ${option}`);
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
