/**
 * The DURABLE RELAY: the baseline plus Parley's store, and nothing else. It answers what a server that
 * keeps messages as Parley does could reach here: each message is saved (with a pending row per
 * recipient) before its sender's acknowledgement and its delivery, and each `received` removes those
 * rows, through the same store thread, SQLite settings and per-turn batching of acknowledgements.
 * Still no passwords, validation, rate limit, presence, blocks or idempotency check of its own.
 */
import { failure, type Failure } from '../../src/protocol';
import { AcknowledgementBatcher, type AcknowledgementOutcome } from '../../src/server/acknowledgements';
import { openWorkerStore, storeThreadUtilization } from '../../src/server/store/worker-store';
import { bareSocketIo, namedSockets, type BareSocket } from './bare-socket-io';
import type { RunningServer } from './running';

/** Its clients send `received` without an ack callback, and it reports no failures: nobody hears how one went. */
const UNANSWERED: AcknowledgementOutcome = { stored: () => {}, failed: () => {} };

export async function startDurableRelay(dataDir: string): Promise<RunningServer> {
  const store = await openWorkerStore(dataDir);
  const acknowledgements = new AcknowledgementBatcher(store);
  const { io, listen } = bareSocketIo();
  const byName = namedSockets(io);

  io.on('connection', (socket: BareSocket) => {
    socket.on('message', ({ to, body, clientMsgId }, ack) => {
      store
        .saveMessage({ from: socket.data.name, kind: 'direct', body, sentAt: Date.now(), recipients: [to], clientMsgId })
        .then(({ message }) => {
          const target = byName.get(to);
          target?.emit('message', message);
          ack({ ok: true, id: message.id, sentAt: message.sentAt, online: target !== undefined });
        }, refuse(ack));
    });
    socket.on('broadcast', ({ body, clientMsgId }, ack) => {
      const recipients = [...byName.keys()].filter((u) => u !== socket.data.name);
      store
        .saveMessage({ from: socket.data.name, kind: 'broadcast', body, sentAt: Date.now(), recipients, clientMsgId })
        .then(({ message }) => {
          socket.broadcast.emit('message', message);
          ack({ ok: true, id: message.id, sentAt: message.sentAt, delivered: recipients.length, skipped: 0, queueFull: [] });
        }, refuse(ack));
    });
    socket.on('received', ({ ids }) => acknowledgements.add(socket.data.name, ids, UNANSWERED));
  });

  /** A failed save is answered (the bench counts it), never left to crash the process. */
  const refuse =
    (ack: (reply: Failure) => void) =>
    (error: unknown): void =>
      ack(failure('INTERNAL', String(error)));

  const port = await listen();
  return {
    port,
    close: async () => {
      await new Promise<void>((resolve) => io.close(() => resolve()));
      acknowledgements.close();
      await store.close();
    },
    storeUtilization: () => storeThreadUtilization(store),
  };
}
