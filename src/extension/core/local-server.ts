import { networkInterfaces } from 'node:os';
import type { Logger } from '../../server/log';
import type { ServerOptions } from '../../server/options';
import type { ParleyServer } from '../../server/server';

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
  private settings: LocalServerSettings | undefined;
  private boundPort: number | undefined;

  constructor(private readonly factory: () => Promise<ServerFactory> | ServerFactory) {}

  get running(): boolean {
    return this.server !== undefined;
  }

  get port(): number | undefined {
    return this.boundPort;
  }

  /** The address this editor uses to sign in to it. */
  get localUrl(): string | undefined {
    return this.boundPort === undefined ? undefined : `http://127.0.0.1:${this.boundPort}`;
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
      const text = err instanceof Error ? err.message : String(err);
      if (/lock|busy/i.test(text)) {
        throw new LocalServerError(
          'DATA_IN_USE',
          `The local server's data (${settings.dataDir}) is in use by another Parley server: ${text}`,
        );
      }
      throw new LocalServerError('START_FAILED', `The local server could not start: ${text}`);
    }
    try {
      const address = await server.listen();
      this.boundPort = address.port;
    } catch (err) {
      await server.close().catch(() => {});
      throw listenError(err, settings.port);
    }
    this.server = server;
    this.settings = settings;
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
   * The addresses a teammate can use: every non-internal IPv4 interface when the network is allowed,
   * otherwise only loopback (which works for this machine alone).
   */
  joinAddresses(): string[] {
    const port = this.boundPort;
    if (port === undefined) return [];
    if (!this.settings?.allowNetwork) return [`http://127.0.0.1:${port}`];
    const external = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((i) => i.family === 'IPv4' && !i.internal)
      .map((i) => `http://${i.address}:${port}`);
    return external.length ? external : [`http://127.0.0.1:${port}`];
  }

  get allowsNetwork(): boolean {
    return this.settings?.allowNetwork ?? false;
  }

  async stop(): Promise<void> {
    const pending = this.starting;
    if (pending) await pending.catch(() => {});
    const server = this.server;
    this.server = undefined;
    this.boundPort = undefined;
    if (server) await server.close();
  }

  private require(): ParleyServer {
    if (!this.server) throw new LocalServerError('START_FAILED', 'The local server is not running.');
    return this.server;
  }
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
  return new LocalServerError(
    'START_FAILED',
    `The local server could not listen on port ${port}: ${err instanceof Error ? err.message : String(err)}`,
  );
}
