/** A mistake in how a `parley-server` command was called: reported with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {}

export function toNumber(text: string, what: string, min = 0): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new UsageError(`${what} must be a whole number, not "${text}"`);
  if (n < min) throw new UsageError(`${what} must be at least ${min}`);
  return n;
}

/** Where a command's data directory is when `--data` is not given. */
export function defaultDataDir(): string {
  return process.env.PARLEY_DATA ?? '.parley-data';
}
