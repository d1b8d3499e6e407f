import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import { COMMAND_HELP } from '../src/protocol';
import { MODES_HELP } from '../src/cli/modes';
import { CliProcess, expectedStamp, nextEvent, passwordOf, startCliServer, WAIT_MS, type CliServer } from './helpers/cli-harness';
import { closePeers, nextPrivate, peer, type Peer } from './private-helpers';

/**
 * The original's command mode, word for word: a terminal session driven through stdin, every bare command, its errors, what
 * arrives and presence, compared with the whole of standard output. The expected text was recorded from the terminal client
 * before conversations existed (branch main), so that this test proves the original mode unchanged.
 */

/** `help` as the original printed it. */
const ORIGINAL_HELP = `Commands:
  whoelse                                            who else is online now
  wholast <minutes>                                  who was online in the last 1-59 minutes
  broadcast message <text>                           send to everyone online
  broadcast user <user> [<user> ...] message <text>  send to the users named
  message <user> <text>                              send to one user, online or not
  startprivate <user>                                open a direct, encrypted chat with a user who is online
  getaddress <user>                                  the same as startprivate (the original name)
  private <user> <text>                              send over the direct chat only, never through the server
  stopprivate <user>                                 close the direct chat with a user
  block <user>                                       stop messages and presence from a user
  unblock <user>                                     undo block
  blocklist                                          the users you have blocked
  logout                                             sign out
  help                                               this list`;

/**
 * `help` now: the original's lines as they were (same order, same columns), then the conversation commands in the same
 * columns, then how the modes fit together.
 */
function expectedHelp(): string {
  const original = ORIGINAL_HELP.split('\n').length - 1;
  const added = COMMAND_HELP.slice(original).map(({ usage, summary }) => `  ${usage.padEnd(49)}  ${summary}`);
  return [ORIGINAL_HELP, ...added, '', MODES_HELP].join('\n');
}

/** Bad lines and what the original answered, in order (the parser's words, or the server's after "error: "). */
const ERRORS: [line: string, answer: string][] = [
  ['wholast', 'usage: wholast <minutes> (how many minutes back?)'],
  ['wholast 99', 'wholast takes a number of minutes from 1 to 59'],
  ['wholast five', 'wholast needs a whole number of minutes, not "five"'],
  ['whoelse now', 'whoelse takes no arguments'],
  ['broadcast', 'usage: broadcast message <text>  or  broadcast user <user> [<user> ...] message <text>'],
  [
    'broadcast message    ',
    'usage: broadcast message <text>  or  broadcast user <user> [<user> ...] message <text> (the message is empty)',
  ],
  [
    'broadcast user bob hi',
    'usage: broadcast message <text>  or  broadcast user <user> [<user> ...] message <text> ("message" and the text must follow the users)',
  ],
  ['message', 'usage: message <user> <text> (to whom?)'],
  ['message bob', 'usage: message <user> <text> (the message is empty)'],
  ['message b@d hi', '"b@d" is not a valid username'],
  ['message nobody hi', 'error: There is no user named "nobody".'],
  ['message ann me?', 'error: You cannot send a message to yourself.'],
  ['block', 'usage: block <user> (whom?)'],
  ['block bob cid', 'block takes one username'],
  ['unblock cid', 'error: cid is not blocked.'],
  ['startprivate', 'usage: startprivate <user> (with whom?)'],
  ['private bob', 'usage: private <user> <text> (the message is empty)'],
  [
    'private bob hi',
    'error: No private chat with bob is open; "startprivate bob" opens one, or "message bob <text>" sends through the server.',
  ],
  ['logout now', 'logout takes no arguments'],
  ['frobnicate', 'unknown command "frobnicate"; "help" lists them'],
];

/** Standard output so far must be exactly what was expected so far. */
class Transcript {
  private expected = '';

  constructor(private readonly cli: CliProcess) {}

  /** Types `lines`, then waits for `output` (lines without their final newline) to follow what was printed before. */
  async step(lines: string[], output: string): Promise<void> {
    this.cli.write(...lines);
    await this.printed(output);
  }

  /** Waits for `output` to follow what was printed before. */
  async printed(output: string): Promise<void> {
    this.expected += output + '\n';
    const deadline = Date.now() + WAIT_MS;
    while (this.cli.stdout.length < this.expected.length && this.cli.running && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(this.cli.stdout, this.expected);
  }

  /** At the end: nothing else was printed. */
  async ended(code: number): Promise<void> {
    assert.equal(await this.cli.exitCode(), code);
    assert.equal(this.cli.stdout, this.expected);
  }
}

let srv: CliServer | undefined;
const peers: Peer[] = [];

after(async () => {
  await closePeers(...peers);
  await srv?.close();
});

describe("the terminal's original mode, word for word", () => {
  test('every bare command, its errors, arrivals, presence and private chat print what the original printed', async (t: TestContext) => {
    srv = await startCliServer(['ann', 'bob', 'cid']);
    const bob = await peer(srv, 'bob');
    peers.push(bob);
    const cli = new CliProcess(['127.0.0.1', String(srv.port)]);
    t.after(() => cli.kill());
    const session = new Transcript(cli);

    await session.step(['ann', passwordOf('ann')], 'Welcome to Parley, ann! Type "help" for the commands.\nOnline now: bob');
    await session.step(['', '   ', 'whoelse'], 'Online now: bob');
    await session.step(['wholast 5'], 'Online in the last 5 minutes: bob');

    const toBob = nextEvent(bob.client, 'message', (m) => m.from === 'ann');
    await session.step(['broadcast message hello all'], 'Broadcast sent to 1 user.');
    assert.deepEqual([(await toBob)[0].kind, (await toBob)[0].body], ['broadcast', 'hello all']);
    await session.step(['broadcast user bob cid message hi both'], 'Broadcast sent to 2 users.');
    await session.step(['BROADCAST user cid message  just cid'], 'Broadcast sent to 1 user.');
    await session.step(['message bob hi bob,  two spaces'], 'Sent to bob.');
    await session.step(['message cid see you later'], 'Sent to cid, who is offline and will get it on signing in.');

    await session.step(['block cid'], 'Blocked cid: no messages either way, and neither of you sees the other online.');
    await session.step(['blocklist'], 'Blocked: cid');
    await session.step(['broadcast user cid message anyone?'], 'Broadcast not delivered; some users could not receive it (1).');
    await session.step(['message cid hi'], 'error: You have blocked cid; unblock them to send a message.');
    await session.step(['unblock cid'], 'Unblocked cid.');
    await session.step(['blocklist'], 'You have not blocked anyone.');

    for (const [line, answer] of ERRORS) await session.step([line], answer);

    const direct = await bob.client.message('ann', 'hello ann\nsecond line');
    await session.printed(`[${expectedStamp(direct.sentAt)}] bob: hello ann\n    second line`);
    const broadcast = await bob.client.broadcast('to all');
    await session.printed(`[${expectedStamp(broadcast.sentAt)}] bob (broadcast): to all`);

    const cid = await srv.signIn('cid');
    await session.printed('* cid is online');
    await session.step(['whoelse'], 'Online now: bob, cid');
    cid.close();
    await session.printed('* cid went offline');

    const opened = nextPrivate(bob.channels, 'opened');
    cli.write('startprivate bob');
    const code = (await opened)[0].safetyCode;
    await session.printed(
      `* private chat with bob is open (direct, encrypted); safety code ${code}: the same on bob's screen means nobody is in between`,
    );
    const toBobPrivately = nextPrivate(bob.channels, 'message');
    await session.step(['private bob in locker 7'], 'Sent privately to bob.');
    assert.equal((await toBobPrivately)[0].body, 'in locker 7');
    const reply = bob.channels.send('ann', 'got it');
    await session.printed(`[${expectedStamp(reply.at)}] bob (private): got it`);
    const already = 'A private chat with bob is already open; "private bob <text>" sends there.';
    await session.step(['getaddress bob'], already);
    await session.step(['startprivate bob'], already);
    await session.step(['stopprivate bob'], '* private chat with bob is closed (you stopped it)');

    await session.step(['help'], expectedHelp());
    // What changed in command mode: a leading "/" (an unknown command before) now runs the command, as in a conversation.
    await session.step(['/whoelse'], 'Online now: bob');

    const gone = nextEvent(bob.client, 'presence', (e) => e.username === 'ann' && !e.online);
    await session.step(['logout'], 'You have signed out.');
    await session.ended(0);
    await gone;
  });
});
