import assert from 'node:assert/strict';
import type { ChatSession } from '../../src/extension/core/chat-session';
import { ChatViewController } from '../../src/extension/core/view-controller';
import { parseHostMessage, type HostToWebview } from '../../src/view-protocol';

/** A controller wired to a list instead of a webview: everything it posts must pass the webview's own validation. */
export function controllerFor(session: ChatSession, page?: number) {
  const posted: HostToWebview[] = [];
  const logs: string[] = [];
  const actions: string[] = [];
  const controller = new ChatViewController(
    session,
    (message) => {
      const parsed = parseHostMessage(JSON.parse(JSON.stringify(message)));
      assert.ok(parsed.ok, `the host posted something the webview refuses: ${parsed.ok ? '' : parsed.error}`);
      posted.push(message);
    },
    {
      openLink: (href) => actions.push(`open ${href}`),
      action: (a) => actions.push(a),
      signOut: () => actions.push('signOut'),
      log: (text) => logs.push(text),
      viewingChanged: () => session.state.setViewing(controller.viewing ? [controller.viewing] : []),
    },
    page,
  );
  return { controller, posted, logs, actions };
}
