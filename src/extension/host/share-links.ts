import * as vscode from 'vscode';
import { EVERYONE, classifyLink, directId, type ShownMessage } from '../../view-protocol';
import type { ChatSession } from '../core/chat-session';
import { shareBody, shareTooLong } from '../core/share';

/** Share Selection to Chat, and following the links in messages: to the web, or to a place in the workspace. */
export class ShareLinks {
  constructor(
    private readonly session: ChatSession,
    private readonly ensureSignedIn: () => Promise<boolean>,
    private readonly reveal: (conversation: string) => Promise<void>,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  async shareSelection(target?: string): Promise<ShownMessage | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Parley: open a file and select some code to share.');
      return undefined;
    }
    if (!(await this.ensureSignedIn())) return undefined;
    const { document, selection } = editor;
    const range = selection.isEmpty ? document.lineAt(selection.active.line).range : selection;
    const endLine = range.end.character === 0 && range.end.line > range.start.line ? range.end.line - 1 : range.end.line;
    const inWorkspace = vscode.workspace.getWorkspaceFolder(document.uri) !== undefined;
    const path = inWorkspace ? vscode.workspace.asRelativePath(document.uri, false) : (document.uri.path.split('/').pop() ?? 'untitled');
    const codeText = document.getText(new vscode.Range(range.start.line, 0, endLine, document.lineAt(endLine).text.length));
    if (!codeText.trim()) {
      void vscode.window.showInformationMessage('Parley: select some code to share (the selection is empty).');
      return undefined;
    }
    const body = shareBody({
      path: path.replace(/\\/g, '/'),
      startLine: range.start.line + 1,
      endLine: endLine + 1,
      languageId: document.languageId,
      code: codeText,
    });
    const tooLong = shareTooLong(body);
    if (tooLong) {
      void vscode.window.showErrorMessage(`Parley: ${tooLong}`);
      return undefined;
    }
    if (!target) {
      const items = [
        { label: 'Everyone', description: 'broadcast to everyone online', id: EVERYONE },
        ...this.session.state
          .people()
          .filter((p) => !p.blocked)
          .map((p) => ({ label: p.username, description: p.online ? 'online' : 'offline', id: directId(p.username) })),
      ];
      target = (await vscode.window.showQuickPick(items, { title: 'Parley: share the selection with…' }))?.id;
      if (!target) return undefined;
    }
    const message = await this.session.sendTo(target, body);
    await this.reveal(target);
    return message;
  }

  async openLink(href: string): Promise<void> {
    const target = classifyLink(href);
    if (target.kind === 'external') {
      await vscode.env.openExternal(vscode.Uri.parse(target.url, true));
    } else if (target.kind === 'location') {
      const uri = await this.findInWorkspace(target.path);
      if (!uri) {
        void vscode.window.showWarningMessage(`Parley: ${target.path} is not in this workspace.`);
        return;
      }
      const document = await vscode.workspace.openTextDocument(uri);
      const last = Math.min(target.endLine, document.lineCount) - 1;
      const range = new vscode.Range(Math.min(target.line - 1, last), 0, last, document.lineAt(Math.max(0, last)).text.length);
      await vscode.window.showTextDocument(document, { selection: range, preview: true });
    } else {
      this.log.warn(`Did not open a link from a message: ${target.reason} (${href.slice(0, 200)})`);
    }
  }

  private async findInWorkspace(path: string): Promise<vscode.Uri | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const candidates: vscode.Uri[] = [];
    for (const folder of folders) {
      candidates.push(vscode.Uri.joinPath(folder.uri, ...path.split('/')));
      // asRelativePath names the folder first in a multi-root workspace.
      const [first, ...rest] = path.split('/');
      if (first === folder.name && rest.length) candidates.push(vscode.Uri.joinPath(folder.uri, ...rest));
    }
    for (const uri of candidates) {
      try {
        const stat = await vscode.workspace.fs.stat(uri);
        if (stat.type & vscode.FileType.File) return uri;
      } catch {
        // not there
      }
    }
    return undefined;
  }
}
