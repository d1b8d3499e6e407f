/**
 * Orders one connection's requests. Pipelined ones (sends and acknowledgements) start in the order they
 * came without waiting for the one before to finish: the store commits in the order it is called, so
 * their order holds, and one client's burst shares a commit. Any other request (a sign-in, a block)
 * starts once everything before it has finished, and everything after it waits for it to finish.
 *
 * With nothing waiting, a pipelined request starts at once rather than on a later microtask: every
 * client acknowledges what it receives, so that is the server's most frequent path.
 */
export class RequestQueue<T> {
  private tail: Promise<void> = Promise.resolve();
  /** Requests chained on `tail` that have not started (pipelined ones) or not finished (the others). */
  private waiting = 0;
  /** Pipelined requests that have started and not finished. */
  private running = 0;
  private onIdle: (() => void)[] | undefined;

  // Methods rather than arrow-function fields: a queue per connection, and thousands of connections.
  /** `run` carries out one request and answers its failures; were it to reject anyway, the queue would still go on. */
  constructor(private readonly run: (request: T) => Promise<void>) {}

  push(pipelined: boolean, request: T): void {
    if (pipelined && this.waiting === 0) return void this.start(request);
    this.waiting++;
    this.tail = this.tail.then(() => (pipelined ? this.startInTurn(request) : this.runInTurn(request)));
  }

  private startInTurn(request: T): void {
    this.waiting--;
    void this.start(request);
  }

  private async start(request: T): Promise<void> {
    this.running++;
    try {
      await this.run(request);
    } catch {
      // Nothing to answer with here (see the constructor); the requests after it must still run.
    } finally {
      if (--this.running === 0) this.wake();
    }
  }

  private async runInTurn(request: T): Promise<void> {
    try {
      if (this.running > 0) await new Promise<void>((resolve) => (this.onIdle ??= []).push(resolve));
      await this.run(request);
    } catch {
      // As in start().
    } finally {
      this.waiting--;
    }
  }

  private wake(): void {
    const waiters = this.onIdle ?? [];
    this.onIdle = undefined;
    for (const resolve of waiters) resolve();
  }
}
