import type { ParleyRequestError } from '../../client/parley-client';
import { asRequestError } from '../../client/request-error';

// The host's modules take it from here too.
export { asRequestError };

/** What went wrong with a sign-in, in words for the notification, and what the extension should do about it. */
export interface SignInProblem {
  code: ParleyRequestError['code'];
  message: string;
  /** The stored password or session token is wrong and must be forgotten. */
  forgetPassword: boolean;
  /** Worth asking for the password again right away. */
  askAgain: boolean;
}

/**
 * The password box's prompt. After a wrong password it says so, with the attempts left, inside the box
 * that asks again: a notification would sit behind that box, unseen.
 */
export function passwordPrompt(username: string, url: string, previous?: SignInProblem): string {
  const ask = `Password for ${username} on ${url}`;
  if (previous?.code !== 'INVALID_CREDENTIALS') return ask;
  const left = /(\d+) attempts? left/.exec(previous.message)?.[0];
  return `${ask} (wrong password${left ? `: ${left}` : ''})`;
}

/** Turns the client core's error codes into the messages the extension shows when signing in. */
export function describeSignInError(err: unknown, url: string, username: string): SignInProblem {
  const error = asRequestError(err);
  switch (error.code) {
    case 'INVALID_CREDENTIALS':
      return {
        code: error.code,
        message:
          `Wrong username or password for ${username} on ${url}. ${error.message.replace(/^Invalid username or password\.\s*/, '')}`.trim(),
        forgetPassword: true,
        askAgain: true,
      };
    case 'INVALID_TOKEN':
      return {
        code: error.code,
        message: `The saved sign-in for ${username} on ${url} has expired or was revoked: sign in with your password.`,
        forgetPassword: true,
        askAgain: true,
      };
    case 'LOCKED_OUT': {
      const seconds = error.retryAfterSeconds;
      const wait = seconds === undefined ? 'for a while' : `for ${seconds} second${seconds === 1 ? '' : 's'}`;
      return {
        code: error.code,
        message: `Too many wrong passwords: ${username} is locked out ${wait}. Try again after that.`,
        forgetPassword: true,
        askAgain: false,
      };
    }
    case 'UNREACHABLE':
      return {
        code: error.code,
        message: `Cannot reach a Parley server at ${url}. Check the address (setting parley.serverUrl) and that the server is running.`,
        forgetPassword: false,
        askAgain: false,
      };
    case 'UNSUPPORTED_VERSION':
      return {
        code: error.code,
        message: `The server at ${url} speaks another version of the Parley protocol: update the extension or the server. (${error.message})`,
        forgetPassword: false,
        askAgain: false,
      };
    case 'ALREADY_SIGNED_IN':
      return {
        code: error.code,
        message: `${username} is already signed in elsewhere and this server allows one session.`,
        forgetPassword: false,
        askAgain: false,
      };
    case 'TIMEOUT':
      return {
        code: error.code,
        message: `The server at ${url} did not answer in time. Try again.`,
        forgetPassword: false,
        askAgain: false,
      };
    case 'RATE_LIMITED':
      return { code: error.code, message: 'Too many requests; wait a moment and try again.', forgetPassword: false, askAgain: false };
    default:
      return { code: error.code, message: `Could not sign in: ${error.message}`, forgetPassword: false, askAgain: false };
  }
}
