import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger, ParleyServer, ServerOptions } from '../local-server-bundle';
import type { ChatSession } from './chat-session';
import { errorMessage } from '../../protocol/errors';

/**
 * The message center started from the editor. It runs inside the extension host process, not in a
 * child process: the server is plain JavaScript (SQLite as WebAssembly, scrypt on libuv's thread
 * pool), so it does not block the editor; in-process it is reached directly for creating the first
 * user (`accounts.add`) and its log goes straight to an output channel; and it cannot outlive the
 * window or be orphaned: it stops with the extension host, on deactivate at the latest. A child
 * process would only add isolation from a server crash, at the cost of an IPC protocol for
 * accounts and logs, and of finding a Node binary inside Electron.
 */

export type ServerFactory = (options: ServerOptions) => Promise<ParleyServer>;

export interface LocalServerSettings {
  port: number;
  /** Listen on every interface (others on the network can join) instead of loopback only. */
  allowNetwork: boolean;
  dataDir: string;
  log: Logger;
}

export type LocalServerErrorCode = 'PORT_IN_USE' | 'NO_PERMISSION' | 'DATA_IN_USE' | 'START_FAILED';

export class LocalServerError extends Error {
  constructor(
    readonly code: LocalServerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'LocalServerError';
  }
}

export class LocalServer {
  private server: ParleyServer | undefined;
  private starting: Promise<ParleyServer> | undefined;
  /** Where the server listens, as listen() reported it. */
  private bound: { address: string; port: number } | undefined;

  constructor(private readonly factory: () => Promise<ServerFactory> | ServerFactory) {}

  get running(): boolean {
    return this.server !== undefined;
  }

  get port(): number | undefined {
    return this.bound?.port;
  }

  /** The interface address the server is bound to: 127.0.0.1 (loopback only) or 0.0.0.0 (every interface). */
  get address(): string | undefined {
    return this.bound?.address;
  }

  /** Whether others on the network can reach it: it is bound to every interface. */
  get allowsNetwork(): boolean {
    return this.bound !== undefined && isWildcard(this.bound.address);
  }

  /** The address this editor uses to sign in to it. */
  get localUrl(): string | undefined {
    if (!this.bound) return undefined;
    return httpUrl(this.allowsNetwork ? '127.0.0.1' : this.bound.address, this.bound.port);
  }

  /** Starts the server; a second call while it runs returns the same one. */
  async start(settings: LocalServerSettings): Promise<ParleyServer> {
    if (this.server) return this.server;
    this.starting ??= this.open(settings).finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async open(settings: LocalServerSettings): Promise<ParleyServer> {
    const create = await this.factory();
    let server: ParleyServer;
    try {
      server = await create({
        port: settings.port,
        host: settings.allowNetwork ? '0.0.0.0' : '127.0.0.1',
        dataDir: settings.dataDir,
        log: settings.log,
      });
    } catch (err) {
      const text = errorMessage(err);
      if (/lock|busy/i.test(text)) {
        throw new LocalServerError(
          'DATA_IN_USE',
          `The local server's data (${settings.dataDir}) is in use by another Parley server: ${text}`,
        );
      }
      throw new LocalServerError('START_FAILED', `The local server could not start: ${text}`);
    }
    try {
      const { address, port } = await server.listen();
      this.bound = { address, port };
    } catch (err) {
      await server.close().catch(() => {});
      throw listenError(err, settings.port);
    }
    this.server = server;
    return server;
  }

  /** Whether anyone can sign in yet. */
  async hasUsers(): Promise<boolean> {
    return (await this.require().accounts.list()).length > 0;
  }

  async users(): Promise<string[]> {
    return (await this.require().accounts.list()).map((u) => u.username);
  }

  /** Creates an account (the first user is created from the editor). */
  async addUser(username: string, password: string): Promise<void> {
    await this.require().accounts.add(username, password);
  }

  /**
   * The addresses a teammate can use: every non-internal IPv4 interface when the server is bound to all
   * of them, otherwise the one it is bound to (loopback: this machine alone).
   */
  joinAddresses(): string[] {
    const local = this.localUrl;
    if (!this.bound || !local) return [];
    if (!this.allowsNetwork) return [local];
    const port = this.bound.port;
    const external = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((i) => i.family === 'IPv4' && !i.internal)
      .map((i) => httpUrl(i.address, port));
    return external.length ? external : [local];
  }

  async stop(): Promise<void> {
    const pending = this.starting;
    if (pending) await pending.catch(() => {});
    const server = this.server;
    this.server = undefined;
    this.bound = undefined;
    if (server) await server.close();
  }

  private require(): ParleyServer {
    if (!this.server) throw new LocalServerError('START_FAILED', 'The local server is not running.');
    return this.server;
  }
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function httpUrl(address: string, port: number): string {
  return isIP(address) === 6 ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

function listenError(err: unknown, port: number): LocalServerError {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    return new LocalServerError(
      'PORT_IN_USE',
      `Port ${port} is already in use, perhaps by another Parley server. Stop that program, or choose another port in the setting parley.localServer.port.`,
    );
  }
  if (code === 'EACCES') {
    return new LocalServerError(
      'NO_PERMISSION',
      `Not allowed to listen on port ${port}; choose a port above 1023 in parley.localServer.port.`,
    );
  }
  return new LocalServerError('START_FAILED', `The local server could not listen on port ${port}: ${errorMessage(err)}`);
}

/**
 * What deactivate does when the window closes: the connection closes (without signing out: another
 * window of the same user stays signed in), then the local server stops, telling its clients it is
 * shutting down. A failure to stop is reported, not thrown: the window closes anyway.
 */
export async function shutdown(session: ChatSession, local: LocalServer, report: (text: string) => void): Promise<void> {
  session.dispose();
  await local.stop().catch((err: unknown) => report(`Stopping the local server failed: ${String(err)}`));
}
