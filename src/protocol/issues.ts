import type { $ZodError } from 'zod/v4/core';

/**
 * Turns a zod failure into one readable sentence: "to: a username is required". It takes zod's core error type so
 * that the webview, which uses `zod/mini`, shares it without bundling the full zod.
 */
export function describeIssues(error: $ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ` : '') + issue.message)
    .join('; ');
}
