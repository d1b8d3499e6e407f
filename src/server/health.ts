import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StoreHealth } from './store/store';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The probes on the server's own port (Socket.IO answers its path before this is asked): `/healthz` answers
 * while the process does; `/readyz` says whether it can take messages, from what it already knows (a probe
 * never writes). Any other request goes to `otherwise`.
 */
export function healthProbes(readiness: () => StoreHealth, otherwise: HttpHandler): HttpHandler {
  return (req, res) => {
    const path = req.method === 'GET' || req.method === 'HEAD' ? req.url?.split('?', 1)[0] : undefined;
    if (path === '/healthz') return answer(res, 200, 'ok');
    if (path !== '/readyz') return otherwise(req, res);
    const health = readiness();
    answer(res, health.ok ? 200 : 503, health.ok ? 'ready' : `not ready: ${health.reason}`);
  };
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`${text}\n`);
}
