/** What the baseline and the durable relay are built on: Socket.IO with Parley's engine settings, on an HTTP server that serves nothing else. */
import { createServer } from 'node:http';
import { Server, type Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '../../src/protocol';
import { DEFAULT_TIMINGS, engineOptions } from '../../src/server/options';

export type BareServer = Server<ClientToServerEvents, ServerToClientEvents>;
export type BareSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export function bareSocketIo(): { io: BareServer; listen(): Promise<number> } {
  const http = createServer((_req, res) => {
    res.writeHead(404).end();
  });
  // The same engine settings as Parley, so that only the application differs.
  const io: BareServer = new Server(http, engineOptions(DEFAULT_TIMINGS));
  const listen = (): Promise<number> =>
    new Promise((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, '127.0.0.1', () => {
        const address = http.address();
        if (!address || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
  return { io, listen };
}
