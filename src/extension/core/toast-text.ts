/**
 * Text from other people or from a server, made fit for a VS Code notification. The workbench turns
 * `[label](https://…)`, `[label](command:…)` and `[label](file:…)` in a notification's message into
 * clickable links, so a message could carry a link that runs a command when clicked; with a space between
 * `]` and `(` nothing is a link any more, and the text still reads the same. Control and bidirectional
 * formatting characters go too (they could make the text read differently from what it is), and the text
 * is one line.
 */
export function toastSafe(text: string): string {
  return text
    .replace(/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/\]\(/g, '] (');
}

/** A message's body for a notification: made safe, and cut to `max` characters (whole code points) with an ellipsis. */
export function toastPreview(body: string, max = 120): string {
  const safe = [...toastSafe(body)];
  return safe.length > max ? `${safe.slice(0, max).join('').trimEnd()}…` : safe.join('');
}
