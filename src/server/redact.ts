/**
 * A URL with its password replaced (`postgres://parley:***@db/parley`), for logs and error messages: a
 * database URL carries its password, and no log may. Text that is not a URL with a host is hidden whole,
 * since it may be one written wrongly.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return '***';
  }
  // `user:password@host` without a scheme parses as a URL of scheme "user" with no host.
  if (url.host === '') return '***';
  if (url.password) url.password = '***';
  // libpq takes the password as a parameter too.
  if (url.searchParams.has('password')) url.searchParams.set('password', '***');
  return url.href;
}
