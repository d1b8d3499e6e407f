import * as vscode from 'vscode';
import type { ChatSession } from '../core/chat-session';
import { unreadBadge } from '../core/notifications';
import { chatHtml } from '../core/webview-html';
import { ChatViewController, type ViewActions } from '../core/view-controller';
import { VIEW_IDS } from '../core/view-ids';

/** A webview bound to the session: its controller and every listener on it, released together. */
interface Bound {
  controller: ChatViewController;
  subscriptions: vscode.Disposable[];
}

/** The chat in the sidebar (a WebviewView) and in editor tabs (WebviewPanels), each bound to the session by a controller. */
export class ChatViews implements vscode.WebviewViewProvider, vscode.WebviewPanelSerializer, vscode.Disposable {
  private view: (Bound & { view: vscode.WebviewView }) | undefined;
  private readonly panels = new Set<Bound & { panel: vscode.WebviewPanel }>();
  private readonly disposables: vscode.Disposable[] = [];
  private pendingReveal: { conversation?: string; focusComposer: boolean } | undefined;
  /** Whether this window has the focus: what a chat view shows in a window in the background is not read yet. */
  private focused = vscode.window.state.focused;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly session: ChatSession,
    private readonly actions: Omit<ViewActions, 'viewingChanged'>,
  ) {
    const updateBadge = (): void => this.updateBadge();
    session.state.on('conversations', updateBadge);
    this.disposables.push(
      { dispose: () => session.state.off('conversations', updateBadge) },
      vscode.window.onDidChangeWindowState(({ focused }) => {
        if (focused === this.focused) return;
        this.focused = focused;
        this.viewingChanged();
      }),
    );
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    if (this.view) release(this.view);
    const entry = { view, ...this.bind(view.webview) };
    this.view = entry;
    const { controller } = entry;
    entry.subscriptions.push(
      view.onDidChangeVisibility(() => controller.setVisible(view.visible)),
      view.onDidDispose(() => {
        release(entry);
        if (this.view === entry) this.view = undefined;
        this.viewingChanged();
      }),
    );
    controller.setVisible(view.visible);
    this.updateBadge();
    // A reveal asked for before the view existed (a notification's "Open", "Message" in the people view).
    const pending = this.pendingReveal;
    this.pendingReveal = undefined;
    if (pending?.focusComposer) controller.focusComposer(pending.conversation);
    else if (pending?.conversation) controller.show(pending.conversation);
  }

  /** Opens the chat in an editor tab (or shows the one already open). */
  openPanel(): ChatViewController {
    const existing = [...this.panels][0];
    if (existing) {
      existing.panel.reveal();
      return existing.controller;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_IDS.panel, 'Parley Chat', vscode.ViewColumn.Active, this.webviewOptions());
    return this.adoptPanel(panel);
  }

  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = this.webviewOptions();
    this.adoptPanel(panel);
  }

  /** Shows the sidebar chat, optionally on a conversation with the composer focused. */
  async reveal(conversation?: string, focusComposer = false): Promise<void> {
    if (!this.view) {
      // The view is created by VS Code when first shown; it picks this up in resolveWebviewView.
      this.pendingReveal = { ...(conversation !== undefined && { conversation }), focusComposer };
      await vscode.commands.executeCommand(`${VIEW_IDS.chat}.focus`);
      return;
    }
    this.view.view.show(!focusComposer);
    const controller = this.view.controller;
    if (focusComposer) controller.focusComposer(conversation);
    else if (conversation) controller.show(conversation);
  }

  /** The conversation on screen (the sidebar's first), if a chat view is visible. */
  onScreen(): string | undefined {
    return this.view?.controller.viewing ?? [...this.panels].find((p) => p.controller.viewing)?.controller.viewing;
  }

  /** For tests: what each chat view is doing. */
  describe(): { where: 'sidebar' | 'editor'; ready: boolean; viewing: string | undefined; active: string; queued: number }[] {
    const all = [...(this.view ? [{ where: 'sidebar' as const, controller: this.view.controller }] : [])];
    for (const p of this.panels) all.push({ where: 'editor' as never, controller: p.controller });
    return all.map(({ where, controller }) => ({
      where,
      ready: controller.isReady,
      viewing: controller.viewing,
      active: controller.activeConversation,
      queued: controller.queuedCount,
    }));
  }

  dispose(): void {
    if (this.view) release(this.view);
    this.view = undefined;
    for (const entry of this.panels) {
      release(entry);
      entry.panel.dispose();
    }
    this.panels.clear();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private adoptPanel(panel: vscode.WebviewPanel): ChatViewController {
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'parley.svg');
    const entry = { panel, ...this.bind(panel.webview) };
    this.panels.add(entry);
    const { controller } = entry;
    entry.subscriptions.push(
      panel.onDidChangeViewState(() => controller.setVisible(panel.visible)),
      panel.onDidDispose(() => {
        release(entry);
        this.panels.delete(entry);
        this.viewingChanged();
      }),
    );
    controller.setVisible(panel.visible);
    return controller;
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
  }

  private bind(webview: vscode.Webview): Bound {
    webview.options = this.webviewOptions();
    const controller = new ChatViewController(this.session, (message) => webview.postMessage(message), {
      ...this.actions,
      viewingChanged: () => this.viewingChanged(),
    });
    const subscriptions = [webview.onDidReceiveMessage((data: unknown) => void controller.receive(data))];
    const asUri = (...path: string[]): string => webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, ...path)).toString();
    webview.html = chatHtml({
      cspSource: webview.cspSource,
      scriptUri: asUri('dist', 'webview.js'),
      styleUri: asUri('media', 'chat.css'),
      codiconUri: asUri('dist', 'codicons', 'codicon.css'),
    });
    controller.reload();
    return { controller, subscriptions };
  }

  private viewingChanged(): void {
    const viewing: string[] = [];
    if (!this.focused) return this.session.state.setViewing(viewing);
    if (this.view?.controller.viewing) viewing.push(this.view.controller.viewing);
    for (const { controller } of this.panels) if (controller.viewing) viewing.push(controller.viewing);
    this.session.state.setViewing(viewing);
  }

  private updateBadge(): void {
    if (this.view) this.view.view.badge = unreadBadge(this.session.state.totalUnread);
  }
}

function release(bound: Bound): void {
  bound.controller.dispose();
  for (const s of bound.subscriptions.splice(0)) s.dispose();
}
