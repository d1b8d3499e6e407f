import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as z from 'zod';
import { removeStaleBackups } from './program/files';
import { importProgressLine, type Accounts, type ImportOptions, type ImportReport } from './accounts';
import type { Logger } from './log';
import { backupInto } from './program/files';
import { exportUser } from './user-export';
import { errorMessage } from '../protocol/errors';

/**
 * `parley-server users …`, `backup` and `export` for a server that is running: the database is the running server's alone
 * (it holds the data directory), so the command asks it, over a local socket in the data directory that only
 * the same system user can open. One JSON line each way per connection.
 */

/** What `users` does, whether on a stopped server's database or through a running one. */
export interface AccountAdmin {
  list(): Promise<{ username: string; lastSeen: number | null }[]>;
  add(username: string, password: string): Promise<void>;
  setPassword(username: string, password: string): Promise<void>;
  remove(username: string): Promise<boolean>;
  importCredentials(text: string, options?: ImportOptions): Promise<ImportReport>;
}

const requestSchema = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('list') }),
  z.strictObject({ action: z.literal('add'), username: z.string(), password: z.string() }),
  z.strictObject({ action: z.literal('passwd'), username: z.string(), password: z.string() }),
  z.strictObject({ action: z.literal('remove'), username: z.string() }),
  // A copy of the database, made in the data directory (the command copies it out: a hardened service may have a /tmp of its
  // own and a read-only system, so a path the command names may not be the same file, or writable, for the server).
  z.strictObject({ action: z.literal('backup') }),
  z.strictObject({ action: z.literal('export'), username: z.string() }),
  z.strictObject({ action: z.literal('import'), text: z.string() }),
]);
type AdminRequest = z.infer<typeof requestSchema>;
type AdminReply = { ok: true; value?: unknown } | { ok: false; message: string };
/** Sent before the reply while an import goes on, one line each. */
type AdminProgress = { progress: [done: number, total: number] };

/** A request is a username and a password, a file's path, or a credentials file to import (tens of thousands of users at most). */
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

/** Where the socket of the server holding `dir` (a real path) listens. Windows has named pipes instead of socket files. */
export function adminSocketPath(dir: string): string {
  if (process.platform === 'win32') return `\\\\.\\pipe\\parley-admin-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`;
  return path.join(dir, 'admin.sock');
}

/**
 * Serves `users` requests for the server whose data directory is `dir` (already claimed by this process, so
 * a socket file left there is stale). Undefined, after a warning, when the socket cannot be made (a path too
 * long for a socket, say): the server runs on without it.
 */
export async function serveAdmin(dir: string, accounts: Accounts, log: Logger): Promise<{ close(): Promise<void> } | undefined> {
  const where = adminSocketPath(dir);
  if (process.platform !== 'win32') fs.rmSync(where, { force: true });
  removeStaleBackups(dir);
  const server = net.createServer((socket) => answer(socket, accounts, log, dir));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(where, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Only this system user may manage accounts (the socket's directory is usually readable by others).
    if (process.platform !== 'win32') fs.chmodSync(where, 0o600);
  } catch (err) {
    log.warn('no socket for "parley-server users" while running', { path: where, err: String(err) });
    server.close();
    return undefined;
  }
  return { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function answer(socket: net.Socket, accounts: Accounts, log: Logger, dir: string): void {
  let input = '';
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    input += chunk;
    if (input.length > MAX_REQUEST_BYTES) return void socket.end(`${JSON.stringify({ ok: false, message: 'request too large' })}\n`);
    const end = input.indexOf('\n');
    if (end < 0) return;
    socket.removeAllListeners('data');
    const progress = (done: number, total: number): void => {
      log.info(importProgressLine(done, total));
      socket.write(`${JSON.stringify({ progress: [done, total] } satisfies AdminProgress)}\n`);
    };
    // An import stops when the command that asked for it has gone (interrupted): nobody would see its report.
    const wanted = (): boolean => !socket.destroyed && socket.readable;
    void handle(input.slice(0, end), accounts, log, dir, { progress, wanted }).then((reply) => socket.end(`${JSON.stringify(reply)}\n`));
  });
}

async function handle(line: string, accounts: Accounts, log: Logger, dir: string, importing: ImportOptions): Promise<AdminReply> {
  let request: AdminRequest;
  try {
    request = requestSchema.parse(JSON.parse(line));
  } catch {
    return { ok: false, message: 'not a users request' };
  }
  try {
    const value = await perform(request, accounts, dir, importing);
    // The action and the username or the counts, never a password.
    if (request.action !== 'list')
      log.info(
        `${request.action === 'backup' || request.action === 'export' ? '' : 'users '}${request.action} through the admin socket`,
        logFields(request, value),
      );
    return { ok: true, value };
  } catch (err) {
    return { ok: false, message: errorMessage(err) };
  }
}

function perform(request: AdminRequest, accounts: Accounts, dir: string, importing: ImportOptions): Promise<unknown> {
  switch (request.action) {
    case 'list':
      return accounts.list();
    case 'add':
      return accounts.add(request.username, request.password);
    case 'passwd':
      return accounts.setPassword(request.username, request.password);
    case 'remove':
      return accounts.remove(request.username);
    case 'backup':
      return backupInto(accounts.store, dir);
    case 'export':
      return exportUser(accounts.store, request.username, Date.now());
    case 'import':
      return accounts.importCredentials(request.text, importing);
  }
}

function logFields(request: Exclude<AdminRequest, { action: 'list' }>, value: unknown): Record<string, unknown> {
  if (request.action === 'backup') return { file: value };
  if (request.action !== 'import') return { username: request.username };
  const { added, existing, rejected } = value as ImportReport;
  return { added: added.length, existing: existing.length, rejected: rejected.length };
}

/** The running server's accounts, when a server holds `dataDir` and listens on its socket; undefined when none does. */
export async function runningServerAdmin(dataDir: string): Promise<AccountAdmin | undefined> {
  const where = socketOf(dataDir);
  if (where === undefined) return undefined; // no data directory: no server
  // Asking for the list tells whether a server answers; a `list` right after is answered with it, not asked again.
  const answer = await answerIfListening(where, { action: 'list' });
  if (answer === undefined) return undefined;
  let probe: unknown = answer.value;
  const call = (request: AdminRequest, progress?: ImportOptions['progress']): Promise<unknown> => send(where, request, progress);
  const ask = (request: AdminRequest, progress?: ImportOptions['progress']): Promise<unknown> => {
    const answered = request.action === 'list' && probe !== undefined ? Promise.resolve(probe) : call(request, progress);
    probe = undefined;
    return answered;
  };
  return {
    list: () => ask({ action: 'list' }) as Promise<{ username: string; lastSeen: number | null }[]>,
    add: async (username, password) => void (await ask({ action: 'add', username, password })),
    setPassword: async (username, password) => void (await ask({ action: 'passwd', username, password })),
    remove: async (username) => (await ask({ action: 'remove', username })) === true,
    importCredentials: (text, options) => ask({ action: 'import', text }, options?.progress) as Promise<ImportReport>,
  };
}

/**
 * Asks the server running on `dataDir` for a backup or an export: its answer, or undefined when no server listens
 * there (the command then opens the data directory itself).
 */
export async function askRunningServer(
  dataDir: string,
  request: Extract<AdminRequest, { action: 'backup' | 'export' }>,
): Promise<{ value: unknown } | undefined> {
  const where = socketOf(dataDir);
  return where === undefined ? undefined : answerIfListening(where, request);
}

/** Where the server holding `dataDir` would listen; undefined when there is no such directory (so no server). */
function socketOf(dataDir: string): string | undefined {
  try {
    return adminSocketPath(fs.realpathSync(dataDir));
  } catch {
    return undefined;
  }
}

/** The answer to `request`, or undefined when nobody listens (ENOENT, ECONNREFUSED: a failure to connect, not a refusal). */
async function answerIfListening(where: string, request: AdminRequest): Promise<{ value: unknown } | undefined> {
  try {
    return { value: await send(where, request) };
  } catch (err) {
    if (err instanceof Error && 'code' in err) return undefined;
    throw err;
  }
}

/** One request on a connection of its own; resolves with the reply's value, rejects with its message. */
function send(where: string, request: AdminRequest, progress?: ImportOptions['progress']): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(where);
    let output = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      output += chunk;
      // Every line but the last (the reply) is an import's progress.
      for (let end = output.indexOf('\n'); end >= 0 && end < output.length - 1; end = output.indexOf('\n')) {
        const line = output.slice(0, end);
        output = output.slice(end + 1);
        const sent = parseProgress(line);
        if (!sent) return void socket.destroy(new Error('the running server gave no answer'));
        progress?.(...sent);
      }
    });
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        const reply = JSON.parse(output) as AdminReply;
        if (reply.ok) resolve(reply.value);
        else reject(new Error(reply.message));
      } catch {
        reject(new Error('the running server gave no answer'));
      }
    });
  });
}

function parseProgress(line: string): AdminProgress['progress'] | undefined {
  try {
    const { progress } = JSON.parse(line) as Partial<AdminProgress>;
    return Array.isArray(progress) && progress.length === 2 ? progress : undefined;
  } catch {
    return undefined;
  }
}
