/**
 * Which items of a conversation are in the DOM: at most `max` consecutive ones. The webview keeps
 * every item it received as data, but builds elements only for this window, which slides up as
 * the user scrolls to older messages and back down towards the newest.
 */
export class TimelineWindow {
  start = 0;
  end = 0;

  constructor(
    readonly max = 150,
    readonly step = 50,
  ) {}

  get size(): number {
    return this.end - this.start;
  }

  /** Shows the newest items. */
  toBottom(length: number): void {
    this.end = length;
    this.start = Math.max(0, length - this.max);
  }

  atBottom(length: number): boolean {
    return this.end >= length;
  }

  /** Items were inserted at these indexes (of the list after insertion, ascending). */
  inserted(indexes: readonly number[], length: number, followNewest: boolean): void {
    for (const i of indexes) {
      if (i < this.start) {
        this.start++;
        this.end++;
      } else if (i <= this.end) {
        this.end++;
      }
    }
    if (followNewest) this.toBottom(length);
    else if (this.size > this.max) this.end = this.start + this.max;
    this.end = Math.min(this.end, length);
  }

  /** Slides towards older items; false when the window already starts at the oldest loaded. */
  up(): boolean {
    if (this.start === 0) return false;
    this.start = Math.max(0, this.start - this.step);
    this.end = Math.min(this.end, this.start + this.max);
    return true;
  }

  /** Slides towards newer items; false when the newest is already shown. */
  down(length: number): boolean {
    if (this.end >= length) return false;
    this.end = Math.min(length, this.end + this.step);
    this.start = Math.max(this.start, this.end - this.max);
    return true;
  }
}
