import type { CommitOutcome, StoreHealth } from './store';

/** What a store knows of its commits for readiness and metrics: the last one's outcome, and who hears of the next. */
export class CommitWatch {
  private last: CommitOutcome | undefined;
  private readonly listeners: ((commit: CommitOutcome) => void)[] = [];

  readonly committed = (commit: CommitOutcome): void => {
    this.last = commit;
    for (const listener of this.listeners) listener(commit);
  };

  listen(listener: (commit: CommitOutcome) => void): void {
    this.listeners.push(listener);
  }

  /** Writable unless `unavailable` says why not, or the last commit failed. */
  health(unavailable: string | undefined): StoreHealth {
    if (unavailable !== undefined) return { ok: false, reason: unavailable };
    if (this.last && !this.last.ok) return { ok: false, reason: `the last commit failed: ${this.last.error ?? 'unknown error'}` };
    return { ok: true };
  }
}
