import type { ErrorCode } from '../protocol';
import { errorMessage } from '../protocol/errors';

/**
 * A request the server refused, or one that could not reach it (`TIMEOUT`, `UNREACHABLE`, `UNTRUSTED_CERTIFICATE`).
 * Apart from ParleyClient so that a UI can tell these errors apart without loading Socket.IO's client.
 */
export class ParleyRequestError extends Error {
  readonly code: ErrorCode | 'TIMEOUT' | 'UNREACHABLE' | 'UNTRUSTED_CERTIFICATE';
  readonly retryAfterSeconds: number | undefined;

  constructor(error: { code: ParleyRequestError['code']; message: string; retryAfterSeconds?: number }) {
    super(error.message);
    this.name = 'ParleyRequestError';
    this.code = error.code;
    this.retryAfterSeconds = error.retryAfterSeconds;
  }
}

/** Any failure as the client core's error, so that callers can read a code and a message from whatever was thrown. */
export function asRequestError(err: unknown): ParleyRequestError {
  if (err instanceof ParleyRequestError) return err;
  return new ParleyRequestError({ code: 'INTERNAL', message: errorMessage(err) });
}
