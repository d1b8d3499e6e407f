/** The server's only way to speak. Fields are data, never passwords or message bodies. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function line(level: string, message: string, fields?: Record<string, unknown>): string {
  const extra = fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields) : '';
  return `${new Date().toISOString()} ${level} ${message}${extra}`;
}

/** Writes one line per event to a stream (stderr by default, so stdout stays for addresses). */
export function streamLogger(write: (text: string) => void = (t) => process.stderr.write(t)): Logger {
  return {
    info: (m, f) => write(line('info', m, f) + '\n'),
    warn: (m, f) => write(line('warn', m, f) + '\n'),
    error: (m, f) => write(line('error', m, f) + '\n'),
  };
}

export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
