import { ParleyRequestError } from './parley-client';

/** Any failure as the client core's error, so that callers can read a code and a message from whatever was thrown. */
export function asRequestError(err: unknown): ParleyRequestError {
  if (err instanceof ParleyRequestError) return err;
  return new ParleyRequestError({ code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) });
}
