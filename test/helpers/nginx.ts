import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from './server';

/** A real nginx in front of message centers, as docs/deploy.md sets it up. */
export interface Nginx {
  /** Where clients connect: http://127.0.0.1:PORT, or https:// with `tls`. */
  url: string;
  port: number;
  /** Its error log so far (what nginx said about the upstreams). */
  errorLog(): string;
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** Ports of message centers on 127.0.0.1; several are balanced by `balance`. */
  upstreams: number[];
  /** The upstream block's balancing directive (e.g. `ip_hash;`), for several upstreams. */
  balance?: string;
  /** Terminate TLS with this certificate and key. */
  tls?: { cert: string; key: string };
  /**
   * The http block's contents (map, upstream, server) as a deployment writes them, listening on `port`: in place
   * of the ones made from the options above.
   */
  site?: (port: number) => string;
}

/**
 * The nginx binary, or undefined after skipping the test with the reason when it is not installed. Only
 * outside CI: .ci/run installs Debian's package, so there a missing nginx fails the test instead.
 */
export function nginxOrSkip(t: TestContext): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'];
  const found = dirs.filter(Boolean).find((dir) => executable(join(dir, 'nginx')));
  if (found) return join(found, 'nginx');
  if (process.env.CI === 'true') throw new Error('nginx is not installed, and CI must run this test: .ci/run installs it with apt-get');
  t.skip('nginx is not installed (Debian: apt-get install nginx); this test runs it in front of the server');
  return undefined;
}

/** Starts nginx on a free loopback port with a configuration in a temporary directory; stopped by stop(). */
export async function startNginx(binary: string, options: NginxOptions): Promise<Nginx> {
  const dir = tempDir('parley-nginx-');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), config(dir, port, options));
    const child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const errorLog = (): string => {
      try {
        return readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {
        return '';
      }
    };
    const up = await accepting(port, child);
    if (up) {
      return {
        url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
        port,
        errorLog,
        stop: async () => {
          await stop(child, exited);
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await exited;
    // Another program may have taken the port between our look and nginx's bind: try another.
    if (attempt < 3 && /Address already in use/.test(stderr + errorLog())) continue;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx did not start:\n${stderr}\n${errorLog()}`);
  }
}

/** One process in the foreground (no master, no daemon), everything it writes in `dir`: nothing of the system's is touched. */
function config(dir: string, port: number, options: NginxOptions): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => {
    mkdirSync(join(dir, kind), { recursive: true });
    return `${kind}_temp_path ${join(dir, kind)};`;
  });
  return `daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} info;
events { worker_connections 512; }
http {
  access_log off;
  ${temp.join('\n  ')}
${options.site ? options.site(port) : site(port, options)}
}
`;
}

function site(port: number, { upstreams, balance = '', tls }: NginxOptions): string {
  return `  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream parley {
    ${balance}
    ${upstreams.map((p) => `server 127.0.0.1:${p};`).join('\n    ')}
  }
  server {
    listen 127.0.0.1:${port}${tls ? ' ssl' : ''};
    ${tls ? `ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key};` : ''}
    location / {
      proxy_pass http://parley;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 1h;
    }
  }`;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A port on 127.0.0.1 that was free a moment ago (a program that binds it later may find it taken). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** True once the port accepts connections (nginx has read its configuration and bound it), false if nginx ended first. */
async function accepting(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 15_000; // only against a hang
  while (child.exitCode === null && child.signalCode === null) {
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not open port ${port} within 15 s`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

/** SIGQUIT lets nginx finish its connections; SIGKILL if it has not gone within a generous bound. */
async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGQUIT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
