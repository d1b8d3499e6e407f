import type { ErrorCode, RequestName } from '../../protocol';
import type { Handler } from '../chat-service';

/**
 * In a cluster, another node's change reaches this one a moment after it was stored: a request refused with one of
 * `codes` (a channel or user this node has not heard of yet, a name taken by a channel deleted elsewhere) runs again,
 * once, when `caughtUp` says this node has applied everything announced before the refusal, if `heard` (a count of
 * the other nodes' changes applied) says something came in since the request began. Handlers that answer
 * through the request itself (no promise) are left as they are.
 */
export function catchingUp<E extends RequestName>(
  handlers: { [K in E]: Handler<K> },
  codes: readonly ErrorCode[],
  node: { caughtUp(): Promise<boolean>; heard(): number },
): { [K in E]: Handler<K> } {
  const wrapped = {} as { [K in E]: Handler<K> };
  for (const name of Object.keys(handlers) as E[]) {
    const handler = handlers[name] as Handler<E>;
    wrapped[name] = ((conn, payload, request) => {
      const heard = node.heard();
      const answer = handler(conn, payload, request);
      if (!answer) return answer;
      return answer.then(async (reply) => {
        if (reply.ok || !codes.includes(reply.error.code)) return reply;
        // Run again only if news came meanwhile: a second run takes from the user's rates again.
        return (await node.caughtUp()) && node.heard() !== heard ? handler(conn, payload, request)! : reply;
      });
    }) as Handler<E> as never;
  }
  return wrapped;
}
