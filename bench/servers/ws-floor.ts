/**
 * The floor under both: a plain `ws` WebSocket server speaking JSON, with the same requests and
 * message shapes but no Socket.IO (no Engine.IO framing, no acknowledgement ids, no heartbeat).
 */
import { WebSocketServer, type WebSocket } from 'ws';
import { LIMITS, type ChatMessage } from '../../src/protocol';
import type { RunningServer } from './running';

/** Client to server. `rid` pairs a request with its reply. */
export type FloorRequest =
  | { t: 'login'; rid: number; username: string; password: string }
  | { t: 'message'; rid: number; to: string; body: string; clientMsgId?: string }
  | { t: 'broadcast'; rid: number; body: string; clientMsgId?: string };

/** Server to client. */
export type FloorEvent =
  { t: 'reply'; rid: number; reply: { ok: boolean } & Record<string, unknown> } | { t: 'message'; message: ChatMessage };

export async function startWsFloor(): Promise<RunningServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: LIMITS.packetBytesMax });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const byName = new Map<string, WebSocket>();
  let nextId = 1;
  const send = (ws: WebSocket, event: FloorEvent): void => ws.send(JSON.stringify(event));

  wss.on('connection', (ws) => {
    let name = '';
    ws.on('message', (data) => {
      const request = JSON.parse(String(data)) as FloorRequest;
      switch (request.t) {
        case 'login':
          name = request.username;
          byName.set(name, ws);
          return send(ws, { t: 'reply', rid: request.rid, reply: { ok: true, username: name, online: [] } });
        case 'message': {
          const message: ChatMessage = { id: nextId++, from: name, to: request.to, kind: 'direct', body: request.body, sentAt: Date.now() };
          const target = byName.get(request.to);
          if (target) send(target, { t: 'message', message });
          return send(ws, { t: 'reply', rid: request.rid, reply: { ok: true, id: message.id, sentAt: message.sentAt, online: !!target } });
        }
        case 'broadcast': {
          const message: ChatMessage = { id: nextId++, from: name, to: null, kind: 'broadcast', body: request.body, sentAt: Date.now() };
          const frame = Buffer.from(JSON.stringify({ t: 'message', message } satisfies FloorEvent));
          let delivered = 0;
          for (const other of wss.clients) {
            if (other === ws || other.readyState !== other.OPEN) continue;
            other.send(frame, { binary: false });
            delivered++;
          }
          return send(ws, {
            t: 'reply',
            rid: request.rid,
            reply: { ok: true, id: message.id, sentAt: message.sentAt, delivered, skipped: 0 },
          });
        }
      }
    });
    ws.on('close', () => {
      if (byName.get(name) === ws) byName.delete(name);
    });
  });

  const address = wss.address();
  if (!address || typeof address === 'string') throw new Error('ws floor: no port');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
