/** A mistake in how a `parley-server` command was called: reported with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {}

/**
 * Text from a file or a request, made safe to print on the operator's terminal: control characters (escape sequences,
 * line breaks that would forge a line of output) are shown as `\xNN` or `\uNNNN`.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
