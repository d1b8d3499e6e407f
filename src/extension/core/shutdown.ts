import type { ChatSession } from './chat-session';
import type { LocalServer } from './local-server';

/**
 * What deactivate does when the window closes: the connection closes (without signing out: another
 * window of the same user stays signed in), then the local server stops, telling its clients it is
 * shutting down. A failure to stop is reported, not thrown: the window closes anyway.
 */
export async function shutdown(session: ChatSession, local: LocalServer, report: (text: string) => void): Promise<void> {
  session.dispose();
  await local.stop().catch((err: unknown) => report(`Stopping the local server failed: ${String(err)}`));
}
