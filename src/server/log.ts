/** The server's only way to speak. Fields are data, never passwords, session tokens or message bodies. */
export interface Logger {
  /** What an operator looks at to follow one client: connections opened and closed, sign-ins refused. */
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LogOptions {
  /** This level and the ones above it are written. Default info. */
  level?: LogLevel;
  /** `text`: a line a person reads; `json`: one object per line (time, level, message, then the fields) for log collectors. */
  format?: LogFormat;
}

function textLine(time: string, level: LogLevel, message: string, fields?: Record<string, unknown>): string {
  const extra = fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields) : '';
  return `${time} ${level} ${message}${extra}`;
}

function jsonLine(time: string, level: LogLevel, message: string, fields?: Record<string, unknown>): string {
  const line: Record<string, unknown> = { time, level, message };
  // A field named like one of the line's own keys must not replace it.
  for (const [key, value] of Object.entries(fields ?? {})) if (!(key in line)) line[key] = value;
  return JSON.stringify(line);
}

/** Writes one line per event to a stream (stderr by default, so stdout stays for addresses). */
export function streamLogger(write: (text: string) => void = (t) => process.stderr.write(t), options: LogOptions = {}): Logger {
  const format = options.format === 'json' ? jsonLine : textLine;
  const lowest = LOG_LEVELS.indexOf(options.level ?? 'info');
  const at = (level: LogLevel): Logger['info'] =>
    LOG_LEVELS.indexOf(level) > lowest
      ? () => {}
      : (message, fields) => write(format(new Date().toISOString(), level, message, fields) + '\n');
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
