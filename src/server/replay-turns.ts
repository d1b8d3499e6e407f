/** A place in one user's line for a replay: `ready` says whether the turn came (false if the place was given up first). */
export interface ReplayTurn {
  readonly ready: Promise<boolean>;
  /** Ends the turn, or leaves the line before it came; once is enough, more do nothing. */
  leave(): void;
}

interface Line {
  running: number;
  waiting: (() => void)[];
}

/**
 * How many replays each user may run at once; the rest wait in sign-in order. What one user's sessions
 * make the server hold in replay pages is then a few pages, however many sessions they open.
 */
export class ReplayTurns {
  private readonly lines = new Map<string, Line>();

  constructor(private readonly perUser: number) {}

  /** Replays running, and waiting for their turn, across all users. */
  counts(): { running: number; waiting: number } {
    let running = 0;
    let waiting = 0;
    for (const line of this.lines.values()) {
      running += line.running;
      waiting += line.waiting.length;
    }
    return { running, waiting };
  }

  enter(user: string): ReplayTurn {
    const line = this.lines.get(user) ?? { running: 0, waiting: [] };
    this.lines.set(user, line);
    let state: 'waiting' | 'running' | 'left' = 'waiting';
    let answer!: (granted: boolean) => void;
    const ready = new Promise<boolean>((resolve) => (answer = resolve));
    const start = (): void => {
      state = 'running';
      line.running++;
      answer(true);
    };
    const leave = (): void => {
      if (state === 'running') {
        line.running--;
        const nextInLine = line.waiting.shift();
        if (nextInLine) nextInLine();
      } else if (state === 'waiting') {
        line.waiting.splice(line.waiting.indexOf(start), 1);
        answer(false);
      }
      state = 'left';
      if (line.running === 0 && line.waiting.length === 0) this.lines.delete(user);
    };
    if (line.running < this.perUser) start();
    else line.waiting.push(start);
    return { ready, leave };
  }
}
