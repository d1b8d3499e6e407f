/**
 * The BASELINE: a bare Socket.IO server with Parley's payload shapes and transport settings, and
 * nothing else: no passwords, no storage, no validation, no rate limit, no presence. `login` only
 * names the socket; `message` relays to the socket of that name; `broadcast` goes to every other
 * socket through Socket.IO's own broadcast (encoded once).
 */
import type { ChatMessage } from '../../src/protocol';
import { bareSocketIo, namedSockets, type BareSocket } from './bare-socket-io';
import type { RunningServer } from './running';

export async function startBaseline(port = 0): Promise<RunningServer> {
  const { io, listen } = bareSocketIo();
  const byName = namedSockets(io);
  let nextId = 1;

  io.on('connection', (socket: BareSocket) => {
    socket.on('message', ({ to, body }, ack) => {
      const message: ChatMessage = { id: nextId++, from: socket.data.name, to, kind: 'direct', body, sentAt: Date.now() };
      const target = byName.get(to);
      target?.emit('message', message);
      ack({ ok: true, id: message.id, sentAt: message.sentAt, online: target !== undefined });
    });
    socket.on('broadcast', ({ body }, ack) => {
      const message: ChatMessage = { id: nextId++, from: socket.data.name, to: null, kind: 'broadcast', body, sentAt: Date.now() };
      socket.broadcast.emit('message', message);
      ack({ ok: true, id: message.id, sentAt: message.sentAt, delivered: io.engine.clientsCount - 1, skipped: 0, queueFull: [] });
    });
  });

  return {
    port: await listen(port),
    close: () => new Promise<void>((resolve) => io.close(() => resolve())),
  };
}
