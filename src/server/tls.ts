import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { createServer, type Server as HttpsServer } from 'node:https';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from './log';
import { errorMessage } from '../protocol/errors';

export interface TlsFiles {
  /** PEM certificate chain (the server's certificate first). */
  cert: string;
  /** PEM private key of that certificate. */
  key: string;
  /** How often the files' modification times are looked at for a renewed pair. Default 5 s. */
  pollMs?: number;
}

/** Changes to the two files are gathered for this long, so that a cert and key written one after the other load together. */
const SETTLE_MS = 200;

/**
 * An HTTPS server whose certificate follows its files: a renewed pair (certbot, a rotated team CA) is
 * served to the next connection without a restart. A pair that does not load (half written, a key that
 * does not match) keeps the one in use and is logged; the next change is tried again.
 */
export function createTlsServer(
  files: TlsFiles,
  log: Logger,
  handler: Parameters<typeof createServer>[1],
  /** How long a connection may take over its TLS handshake: one that sends nothing must not be held for Node's 120 s. */
  handshakeTimeoutMs: number,
): { server: HttpsServer; stop(): void } {
  let server: HttpsServer;
  try {
    server = createServer({ ...readPair(files), handshakeTimeout: handshakeTimeoutMs }, handler);
  } catch (err) {
    // At start there is no certificate to keep: the operator must fix the files.
    const reason = errorMessage(err);
    throw new Error(`The TLS certificate ${files.cert} and key ${files.key} do not load: ${reason}`, { cause: err });
  }
  let settle: NodeJS.Timeout | undefined;
  const reload = (): void => {
    try {
      const pair = readPair(files);
      createSecureContext(pair); // checks that the key matches before anything is swapped
      server.setSecureContext(pair);
      log.info('TLS certificate reloaded', { cert: files.cert });
    } catch (err) {
      log.error('TLS certificate not reloaded; the previous one stays in use', {
        cert: files.cert,
        key: files.key,
        err: errorMessage(err),
      });
    }
  };
  const changed = (now: Stats, before: Stats): void => {
    if (now.mtimeMs === before.mtimeMs && now.size === before.size && now.ino === before.ino) return;
    clearTimeout(settle);
    settle = setTimeout(reload, SETTLE_MS);
  };
  const options = { interval: files.pollMs ?? 5_000, persistent: false };
  watchFile(files.cert, options, changed);
  watchFile(files.key, options, changed);
  return {
    server,
    stop: () => {
      clearTimeout(settle);
      unwatchFile(files.cert, changed);
      unwatchFile(files.key, changed);
    },
  };
}

function readPair(files: TlsFiles): Pick<SecureContextOptions, 'cert' | 'key'> {
  return { cert: readFileSync(files.cert), key: readFileSync(files.key) };
}
