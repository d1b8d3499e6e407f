/**
 * The big replay's reader (bench/hardening.ts, measure 12), in a process of its own: its work on 100,000
 * messages must not slow the clients that time the server's answers meanwhile.
 */
import { ParleyClient } from '../src/client/parley-client';
import { serve } from './ipc';
import { BENCH_PASSWORD, clockMs, type ReaderCommands } from './protocol';

serve<ReaderCommands>({
  read: async ({ url, username, messages, timeoutMs }) => {
    const client = new ParleyClient(url, { requestTimeoutMs: 60_000 });
    let received = 0;
    let lastAt = 0;
    try {
      const all = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`only ${received} of ${messages} missed messages arrived within ${timeoutMs} ms`)),
          timeoutMs,
        );
        client.on('message', () => {
          received++;
          lastAt = clockMs();
          if (received === messages) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      const startAt = clockMs();
      await client.connect();
      await client.login(username, BENCH_PASSWORD);
      await all;
      return { startAt, lastAt };
    } finally {
      client.close();
    }
  },
});
