/**
 * The BASELINE: a bare Socket.IO server with Parley's payload shapes and transport settings, and
 * nothing else: no passwords, no storage, no validation, no rate limit, no presence. `login` only
 * names the socket; `message` relays to the socket of that name; `broadcast` goes to every other
 * socket through Socket.IO's own broadcast (encoded once).
 */
import { createServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { ChatMessage, ClientToServerEvents, ServerToClientEvents } from '../../src/protocol';
import { DEFAULT_TIMINGS, engineOptions } from '../../src/server/options';
import type { RunningServer } from './running';

type BaselineSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export async function startBaseline(): Promise<RunningServer> {
  const http = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  // The same engine settings as Parley, so that only the application differs.
  const io = new Server<ClientToServerEvents, ServerToClientEvents>(http, engineOptions(DEFAULT_TIMINGS));
  const byName = new Map<string, BaselineSocket>();
  let nextId = 1;

  io.on('connection', (socket: BaselineSocket) => {
    let name = socket.id;
    socket.on('login', ({ username }, ack) => {
      name = username;
      byName.set(username, socket);
      ack({ ok: true, username, online: [] });
    });
    socket.on('message', ({ to, body }, ack) => {
      const message: ChatMessage = { id: nextId++, from: name, to, kind: 'direct', body, sentAt: Date.now() };
      const target = byName.get(to);
      target?.emit('message', message);
      ack({ ok: true, id: message.id, sentAt: message.sentAt, online: target !== undefined });
    });
    socket.on('broadcast', ({ body }, ack) => {
      const message: ChatMessage = { id: nextId++, from: name, to: null, kind: 'broadcast', body, sentAt: Date.now() };
      socket.broadcast.emit('message', message);
      ack({ ok: true, id: message.id, sentAt: message.sentAt, delivered: io.engine.clientsCount - 1, skipped: 0 });
    });
    socket.on('disconnect', () => {
      if (byName.get(name) === socket) byName.delete(name);
    });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(0, '127.0.0.1', () => resolve());
  });
  const address = http.address();
  if (!address || typeof address === 'string') throw new Error('baseline: no port');
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => io.close(() => resolve())),
  };
}
