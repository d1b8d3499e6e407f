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

/** The sessions a test signs in, disposed together when it ends. */
export class SessionsOf {
  private readonly list: ChatSession[] = [];

  constructor(private readonly server: () => TestServer) {}

  async signIn(username: string): Promise<ChatSession> {
    return this.add(await signedInSession(this.server(), username));
  }

  add(session: ChatSession): ChatSession {
    this.list.push(session);
    return session;
  }

  dispose(): void {
    for (const s of this.list.splice(0)) s.dispose();
  }
}
