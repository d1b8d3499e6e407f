import { ChatSession, type SessionOptions } from '../../src/extension/core/chat-session';
import type { TestServer } from './server';

/** A chat session as the extension makes it, with quick reconnects for tests; closed by `sessions.close()`. */
export function sessionFor(t: TestServer, options: SessionOptions = {}): ChatSession {
  return new ChatSession({
    client: { requestTimeoutMs: 3000, socket: { reconnectionDelay: 50, reconnectionDelayMax: 200 } },
    now: () => t.clock.now,
    ...options,
  });
}

export async function signedInSession(t: TestServer, username: string, options: SessionOptions = {}): Promise<ChatSession> {
  const session = sessionFor(t, options);
  await session.connect(t.url, username, `${username}-pw`);
  return session;
}
