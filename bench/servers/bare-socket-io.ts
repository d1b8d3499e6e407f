/** What the baseline and the durable relay are built on: Socket.IO with Parley's engine settings, on an HTTP server that serves nothing else. */
import { createServer } from 'node:http';
import { Server, type DefaultEventsMap, type Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/protocol';
import { DEFAULT_TIMINGS, engineOptions } from '../../src/server/options';

/** `name`: the socket's id until its `login` names it. */
interface SocketData {
  name: string;
}
export type BareServer = Server<ClientToServerEvents, ServerToClientEvents, DefaultEventsMap, SocketData>;
export type BareSocket = Socket<ClientToServerEvents, ServerToClientEvents, DefaultEventsMap, SocketData>;

/**
 * Who is who, as both relays keep it: `login` names the socket (`socket.data.name`, no password checked) and
 * answers at once; the map finds a socket by name until it leaves.
 */
export function namedSockets(io: BareServer): Map<string, BareSocket> {
  const byName = new Map<string, BareSocket>();
  io.on('connection', (socket) => {
    socket.data.name = socket.id;
    // A token sign-in (protocol 2) names nobody: the socket keeps its id.
    socket.on('login', ({ username = socket.id }, ack) => {
      socket.data.name = username;
      byName.set(username, socket);
      ack({ ok: true, username, online: [] });
    });
    socket.on('disconnect', () => {
      if (byName.get(socket.data.name) === socket) byName.delete(socket.data.name);
    });
  });
  return byName;
}

export function bareSocketIo(): { io: BareServer; listen(port?: number): Promise<number> } {
  const http = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  // The same engine settings as Parley, so that only the application differs.
  const io: BareServer = new Server(http, engineOptions(DEFAULT_TIMINGS));
  const listen = (port = 0): Promise<number> =>
    new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, '127.0.0.1', () => {
        const address = http.address();
        if (!address || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  return { io, listen };
}
