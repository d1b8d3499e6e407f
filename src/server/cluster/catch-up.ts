import type { ErrorCode, RequestName } from '../../protocol';
import type { Handler } from '../chat-service';

/** Reads at most this often, so that requests naming what does not exist cost the database little. */
const MIN_INTERVAL_MS = 1000;

/**
 * Coalesced reloads of what a node keeps in memory: callers during one share it, and one after an earlier
 * reload within MIN_INTERVAL_MS is skipped (undefined).
 */
export class Reloader {
  private running: Promise<void> | undefined;
  private last = -Infinity;

  constructor(private readonly reload: () => Promise<void>) {}

  /** Resolves true once a reload that began after this call is over; false when none was made. */
  async fresh(): Promise<boolean> {
    if (this.running) await this.running; // began before this call: it may have missed the change
    if (performance.now() - this.last < MIN_INTERVAL_MS) return false;
    this.last = performance.now();
    this.running ??= this.reload().finally(() => (this.running = undefined));
    await this.running;
    return true;
  }
}

/**
 * In a cluster, another node's change reaches this one a moment after it was stored: a request refused with one of
 * `codes` (a channel or user this node has not heard of yet) is run again, once, after this node read its copy
 * again. Handlers that answer through the request itself (no promise) are left as they are.
 */
export function catchingUp<E extends RequestName>(
  handlers: { [K in E]: Handler<K> },
  codes: readonly ErrorCode[],
  reloader: Reloader,
): { [K in E]: Handler<K> } {
  const wrapped = {} as { [K in E]: Handler<K> };
  for (const name of Object.keys(handlers) as E[]) {
    const handler = handlers[name] as Handler<E>;
    wrapped[name] = ((conn, payload, request) => {
      const answer = handler(conn, payload, request);
      if (!answer) return answer;
      return answer.then(async (reply) =>
        !reply.ok && codes.includes(reply.error.code) && (await reloader.fresh()) ? handler(conn, payload, request)! : reply,
      );
    }) as Handler<E> as never;
  }
  return wrapped;
}
