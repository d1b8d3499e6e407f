import { randomBytes } from 'node:crypto';

export interface ChatHtmlOptions {
  /** webview.cspSource */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  codiconUri: string;
  nonce?: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

const attr = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/**
 * The chat webview's page: a strict CSP (nothing by default; scripts only with this page's nonce;
 * styles, fonts and images only from the extension's own files), and no inline script or style.
 */
export function chatHtml(options: ChatHtmlOptions): string {
  const nonce = options.nonce ?? makeNonce();
  const csp = [
    "default-src 'none'",
    `style-src ${options.cspSource}`,
    `font-src ${options.cspSource}`,
    `img-src ${options.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(options.codiconUri)}">
<link rel="stylesheet" href="${attr(options.styleUri)}">
<title>Parley</title>
</head>
<body>
<div id="app"></div>
<script nonce="${nonce}" src="${attr(options.scriptUri)}"></script>
</body>
</html>`;
}
