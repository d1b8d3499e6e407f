/** A mistake in how a `parley-server` command was called: reported with a pointer to `--help`, exit code 2. */
export class UsageError extends Error {}

/** Where a command's data directory is when `--data` is not given. */
export function defaultDataDir(): string {
  return process.env.PARLEY_DATA ?? '.parley-data';
}
