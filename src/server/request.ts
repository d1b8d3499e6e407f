import { failure, type ErrorCode, type Reply, type ReplyTo } from '../protocol';
import type { AcknowledgementOutcome } from './acknowledgements';
import type { Connection } from './connection';
import type { Tally } from './meter';

/** Work a handler leaves for after its reply, e.g. replaying stored messages after a sign-in. */
export type Task = () => void | Promise<void>;

const NONE: readonly Task[] = [];

/**
 * One request of a client, from its arrival to its answer. An object rather than closures: every
 * client acknowledges what it receives, so this is made for each of thousands of requests a second.
 * A `received` request is answered through it once its batch is stored (AcknowledgementOutcome).
 */
export class Request implements AcknowledgementOutcome {
  /** Set once the event's schema has accepted it. */
  payload: unknown;
  private deferred: Task[] | undefined;

  constructor(
    readonly conn: Connection,
    /** As the client named it: a RequestName once validated. */
    readonly event: string,
    /** Without one (allowed for `received` only), a success needs no answer and a failure becomes a protocolError. */
    private readonly ack: ((reply: Reply) => void) | undefined,
    /** Where failures are counted, by code. */
    private readonly errors: Tally<ErrorCode>,
  ) {}

  reply(reply: Reply): void {
    if (!reply.ok) this.errors.add(reply.error.code);
    if (this.ack) this.ack(reply);
    else if (!reply.ok) this.conn.socket.emit('protocolError', { ...reply.error, event: this.event });
  }

  stored(count: number): void {
    const reply: ReplyTo<'received'> = { ok: true, count };
    this.reply(reply);
  }

  failed(): void {
    this.reply(failure('INTERNAL', 'The server could not store this acknowledgement; it has been logged.'));
  }

  /** Leaves work for after the reply (which can then no longer answer the request). */
  defer(task: Task): void {
    (this.deferred ??= []).push(task);
  }

  /** The deferred work, in order. */
  later(): readonly Task[] {
    return this.deferred ?? NONE;
  }
}
