import { clearScreenDown, createInterface, cursorTo, moveCursor, type Interface } from 'node:readline';

/**
 * The terminal's line editor, shared by the terminal client and the server's command line (which imports
 * nothing else of the client's): lines read in order, passwords hidden, output printed above the prompt.
 */

type Input = NodeJS.ReadableStream & { isTTY?: boolean };
type Output = NodeJS.WritableStream & { isTTY?: boolean };

/**
 * Every line of one input, for a whole session: sign-in answers, then commands. One readline
 * interface reads them all, so that lines piped in at once are queued, never lost between prompts.
 * On a terminal it edits lines, hides passwords and can print above the line being typed.
 */
export class LineInput {
  /** True when lines are edited on a terminal (raw mode, echo, a prompt to redraw). */
  readonly terminal: boolean;
  private readonly rl: Interface;
  private readonly queued: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;
  private muted = false;

  constructor(
    input: Input,
    private readonly output: Output,
  ) {
    this.terminal = input.isTTY === true && output.isTTY === true;
    this.rl = createInterface({ input, output, terminal: this.terminal, historySize: this.terminal ? 100 : 0 });
    // readline echoes through _writeToOutput; while a password is typed only the prompt and the final newline get through.
    const writer = this.rl as unknown as { _writeToOutput: (s: string) => void };
    const original = writer._writeToOutput.bind(this.rl);
    writer._writeToOutput = (s: string) => {
      if (!this.muted) return original(s);
      const prompt = this.rl.getPrompt();
      if (s.startsWith(prompt)) original(prompt);
      else if (s === '\r\n') original(s);
    };
    this.rl.on('line', (line) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (waiting) waiting(line);
      else this.queued.push(line);
    });
    this.rl.on('close', () => {
      this.ended = true;
      // Ctrl-D leaves the cursor after the prompt; start what follows on a clean line.
      if (this.terminal) this.clearLine();
      this.waiting?.(undefined);
      this.waiting = undefined;
    });
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Calls `listener` on Ctrl-C typed on the terminal (readline catches it in raw mode; no signal is sent). */
  onInterrupt(listener: () => void): void {
    this.rl.on('SIGINT', listener);
  }

  /**
   * Shows `prompt` and resolves with the next line, or undefined once input has ended.
   * With `hidden`, what is typed on a terminal is not echoed and is kept out of the history.
   */
  async read(prompt: string, { hidden = false } = {}): Promise<string | undefined> {
    const next = this.queued.shift();
    if (next !== undefined) {
      if (!this.terminal && prompt) this.output.write(prompt);
      return next;
    }
    if (this.ended) return undefined;
    this.muted = hidden && this.terminal;
    this.rl.setPrompt(prompt);
    if (prompt || this.terminal) this.rl.prompt();
    const line = await new Promise<string | undefined>((resolve) => (this.waiting = resolve));
    if (this.muted) {
      this.muted = false;
      const history = (this.rl as unknown as { history?: string[] }).history;
      if (line && history?.[0] === line) history.shift();
    }
    return line;
  }

  /**
   * Changes the prompt of the line being read on a terminal, as from the next time it is drawn (`writeAbove` draws
   * it): what the prompt says must not go stale while a line is typed.
   */
  setPrompt(prompt: string): void {
    if (this.terminal && !this.muted) this.rl.setPrompt(prompt);
  }

  /**
   * Writes `text` to `stream` without mangling the line being typed: on a terminal the prompt and the
   * partial input are cleared, the text written, and both drawn again below it.
   */
  writeAbove(stream: NodeJS.WritableStream, text: string): void {
    if (!this.terminal || this.ended || this.muted) {
      stream.write(text);
      return;
    }
    this.clearLine();
    stream.write(text);
    this.rl.prompt(true);
  }

  /** Stops reading; on a terminal the prompt line is cleared so that the shell starts on a clean line. */
  close(): void {
    if (this.ended) return;
    if (this.terminal) this.clearLine();
    this.rl.close();
  }

  private clearLine(): void {
    // The partial input may wrap over several rows: go up to the prompt's row, then clear everything below.
    const rows = this.ended ? 0 : this.rl.getCursorPos().rows;
    if (rows > 0) moveCursor(this.output, 0, -rows);
    cursorTo(this.output, 0);
    clearScreenDown(this.output);
  }
}

/**
 * Asks one question on the terminal (a password with `hidden`), or reads the next line of a pipe as it is;
 * rejects when input ends first.
 */
export async function ask(question: string, { hidden = false } = {}): Promise<string> {
  const input = new LineInput(process.stdin, process.stderr);
  try {
    const line = await input.read(question, { hidden });
    if (line === undefined) throw new Error('input ended');
    return line;
  } finally {
    input.close();
  }
}
