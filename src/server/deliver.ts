import type { ChatMessage, MessageKind } from '../protocol';
import { userRoom, type Connection } from './connection';
import type { Tally } from './meter';
import type { Presence } from './presence';

/** Up to this many sessions, a message is sent to each rather than through rooms. */
const FEW_SESSIONS = 4;

const everyone = (): boolean => true;

/**
 * Sends a message to every session of `users` that `admits` (by default all) but the one whose socket id is `skip`
 * (the sender's, which has its reply), and returns how many it reached. To many sessions it goes through their rooms, encoded once (sessions still replaying hold it instead,
 * so that it does not overtake what they replay); to a few, one by one, which costs less than a room broadcast.
 * `delivered` counts the sessions it was written to now; a replaying session counts it when its replay sends it.
 */
export function deliver(
  presence: Presence<Connection>,
  message: ChatMessage,
  users: readonly string[],
  skip: string | undefined,
  delivered: Tally<MessageKind>,
  admits: (session: Connection) => boolean = everyone,
): number {
  const live: Connection[] = [];
  const except = skip === undefined ? [] : [skip];
  let held = 0;
  for (const user of users) {
    for (const session of presence.sessionsOf(user)) {
      if (session.socket.id === skip) continue;
      if (!admits(session)) {
        except.push(session.socket.id);
      } else if (session.replaying) {
        except.push(session.socket.id);
        session.send(message);
        held++;
      } else {
        live.push(session);
      }
    }
  }
  if (live.length <= FEW_SESSIONS) for (const session of live) session.send(message);
  else live[0]!.socket.nsp.to(users.map(userRoom)).except(except).emit('message', message);
  if (live.length > 0) delivered.add(message.kind, live.length);
  return held + live.length;
}
