import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { LineInput } from '../src/tty/line-input';

/** What a terminal sends when keys are typed: a stream that says it is a TTY and takes raw mode. */
class FakeKeyboard extends PassThrough {
  readonly isTTY = true;
  raw = false;
  setRawMode(mode: boolean): this {
    this.raw = mode;
    return this;
  }
  type(keys: string): void {
    this.write(keys);
  }
}

/** A terminal's screen as a byte log: everything written, escape sequences and all. */
class FakeScreen {
  written = '';
  /** What was written since the last call. */
  take(): string {
    const out = this.written;
    this.written = '';
    return out;
  }
  /** A stream onto this screen: stderr and stdout of one terminal both write to it. */
  stream(): Writable & { isTTY: true; columns: number } {
    const stream = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.written += chunk.toString();
        done();
      },
    });
    return Object.assign(stream, { isTTY: true as const, columns: 80 });
  }
}

/** Lets readline handle what was typed (it reads the input stream asynchronously). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// ECMA-48 sequences readline writes: cursor to column 1, erase from the cursor to the end of the screen, cursor one row up.
const COLUMN_1 = '\x1b[1G';
const ERASE_BELOW = '\x1b[0J';
const ROW_UP = '\x1b[1A';

/** A control sequence (cursor move, erasure); built from a string, since the linter refuses a control character in a regex literal. */
const CSI = new RegExp(String.raw`\x1b\[\d*[A-Za-z]`, 'g');
/** The text a screen shows for what was written on one row: cursor moves and erasures left out. */
const visible = (written: string): string => written.replace(CSI, '');

describe('LineInput on a terminal', () => {
  test('a message written above the line being typed clears it, prints, and draws the prompt and the partial input again', async () => {
    const keyboard = new FakeKeyboard();
    const screen = new FakeScreen();
    // Prompts and echo go to stderr, messages to stdout: on a terminal both reach the same screen.
    const lines = new LineInput(keyboard, screen.stream());
    const stdout = screen.stream();
    assert.equal(lines.terminal, true);
    assert.equal(keyboard.raw, true, 'raw mode, so that keys arrive one by one');

    const read = lines.read('> ');
    keyboard.type('hel');
    await settle();
    assert.equal(visible(screen.take()), '> hel', 'the prompt and the echo of what was typed');

    lines.writeAbove(stdout, 'bob: hi\n');
    const written = screen.take();
    const [clear, rest] = [written.slice(0, written.indexOf('bob: hi')), written.slice(written.indexOf('bob: hi'))];
    assert.equal(clear, COLUMN_1 + ERASE_BELOW, `the partial line is cleared first: ${JSON.stringify(written)}`);
    assert.ok(rest.startsWith('bob: hi\n'), `then the message: ${JSON.stringify(written)}`);
    assert.equal(visible(rest), 'bob: hi\n> hel', `then the prompt and the partial input below it: ${JSON.stringify(written)}`);

    keyboard.type('lo\r');
    assert.equal(await read, 'hello', 'what was typed before and after the message is one line');
    lines.close();
  });

  test('a partial input that wraps is cleared from the row where the prompt starts', async () => {
    const keyboard = new FakeKeyboard();
    const screen = new FakeScreen();
    const lines = new LineInput(keyboard, screen.stream());
    const read = lines.read('> ');
    keyboard.type('x'.repeat(100)); // 102 columns with the prompt: the cursor is on the second row
    await settle();
    screen.take();
    lines.writeAbove(screen.stream(), 'note\n');
    const written = screen.take();
    assert.ok(written.startsWith(ROW_UP + COLUMN_1 + ERASE_BELOW + 'note\n'), `one row up, then cleared: ${JSON.stringify(written)}`);
    keyboard.type('\r');
    assert.equal(await read, 'x'.repeat(100));
    lines.close();
  });

  test('a prompt changed while a line is typed is drawn with the next line written above it', async () => {
    const keyboard = new FakeKeyboard();
    const screen = new FakeScreen();
    const lines = new LineInput(keyboard, screen.stream());
    const read = lines.read('bob (private, encrypted)> ');
    keyboard.type('sec');
    await settle();
    screen.take();
    lines.setPrompt('> ');
    lines.writeAbove(screen.stream(), 'Back to commands.\n');
    assert.equal(visible(screen.take()), 'Back to commands.\n> sec', 'the new prompt, and what was typed so far');
    keyboard.type('\r');
    assert.equal(await read, 'sec');
    lines.close();
  });

  test('Ctrl-C typed on the terminal reaches the interrupt handler', async () => {
    const keyboard = new FakeKeyboard();
    const lines = new LineInput(keyboard, new FakeScreen().stream());
    let interrupted = 0;
    lines.onInterrupt(() => interrupted++);
    void lines.read('> ');
    keyboard.type('abc\x03');
    await settle();
    assert.equal(interrupted, 1);
    lines.close();
  });

  test('a hidden answer is not echoed and stays out of the history', async () => {
    const keyboard = new FakeKeyboard();
    const screen = new FakeScreen();
    const lines = new LineInput(keyboard, screen.stream());
    const password = lines.read('Password: ', { hidden: true });
    keyboard.type('s3cret');
    keyboard.type('\r');
    assert.equal(await password, 's3cret');
    assert.equal(visible(screen.take()), 'Password: \r\n', 'the password never reaches the screen');

    const command = lines.read('> ');
    keyboard.type('\x1b[A'); // arrow up: the previous line from the history
    await settle();
    keyboard.type('\r');
    assert.equal(await command, '', 'the password is not in the history');
    lines.close();
  });
});
