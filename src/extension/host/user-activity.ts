import * as vscode from 'vscode';
import type { Attention } from '../core/attention';

/**
 * Where the user's attention is, for core/attention.ts: this window's focus, and working in one of its editors
 * (typing, moving the cursor). The chat views report being shown and typed in themselves (chat-views.ts).
 */
export function followUserActivity(attention: Attention): vscode.Disposable {
  attention.focusChanged(vscode.window.state.focused);
  return vscode.Disposable.from(
    vscode.window.onDidChangeWindowState((state) => attention.focusChanged(state.focused)),
    vscode.window.onDidChangeTextEditorSelection(() => attention.back()),
  );
}
