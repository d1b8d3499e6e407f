import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * The most files (sockets included) this process may have open: the soft `ulimit -n`, which Node raises
 * to the hard limit as it starts. Undefined where there is no such limit (Windows) or it cannot be read.
 */
export function openFileLimit(): number | undefined {
  if (process.platform === 'win32') return undefined;
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8'); // Linux: no process to start
    return toLimit(/^Max open files\s+(\S+)/m.exec(limits)?.[1]);
  } catch {
    // A child shell inherits this process's limits (macOS and the other Unixes have no /proc/self/limits).
    try {
      return toLimit(execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8', timeout: 5_000 }).trim());
    } catch {
      return undefined;
    }
  }
}

function toLimit(text: string | undefined): number | undefined {
  const n = Number(text);
  return text !== undefined && /^\d+$/.test(text) && n > 0 ? n : undefined; // "unlimited" is no limit
}

/**
 * Open connections the server may hold below a limit on open files: the rest is kept for what else the
 * process opens (the store and its worker, admin.sock, the runtime's own, and an editor's when the server
 * runs in the extension host), so that a flood of connections never leaves it unable to open a file.
 */
export function maxConnectionsBelow(fileLimit: number): number {
  return Math.max(Math.floor(fileLimit / 2), fileLimit - Math.max(64, Math.ceil(fileLimit / 8)));
}

/** The server's default cap on open connections: below this process's limit on open files, none without one. */
export function defaultMaxConnections(): number | undefined {
  const fileLimit = openFileLimit();
  return fileLimit === undefined ? undefined : maxConnectionsBelow(fileLimit);
}
