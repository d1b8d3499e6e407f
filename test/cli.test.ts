import { refusedPort, startServer, TestClock, TEST_SCRYPT } from './helpers/server';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test, type TestContext } from 'node:test';
import { Server } from 'socket.io';
import { ParleyRequestError } from '../src/client/parley-client';
import { COMMAND_HELP, parseCommand } from '../src/protocol';
import { hashPassword } from '../src/server/passwords';
import { CliProcess, expectedStamp, literal, nextEvent, passwordOf, startCliServer, type CliServer } from './helpers/cli-harness';

// Every test has a server of its own, so that presence and "nobody else" stay predictable while tests run side by side.
const processes = new Set<CliProcess>();
const servers = new Set<CliServer>();

async function serve(t: TestContext, users: string[], options?: Parameters<typeof startCliServer>[1]): Promise<CliServer> {
  const server = await startCliServer(users, options);
  servers.add(server);
  t.after(() => server.close());
  return server;
}

function track(t: TestContext, cli: CliProcess): CliProcess {
  processes.add(cli);
  t.after(() => cli.kill());
  return cli;
}

const launch = (t: TestContext, args: string[]): CliProcess => track(t, new CliProcess(args));
const signedIn = async (t: TestContext, port: number, username: string): Promise<CliProcess> => {
  const cli = new CliProcess(['127.0.0.1', String(port)]);
  track(t, cli);
  cli.write(username, passwordOf(username));
  await cli.waitFor(new RegExp(`Welcome to Parley, ${username}!`));
  return cli;
};

/** The parser's own words for a bad line, as the terminal must show them. */
function parserError(line: string): string {
  const result = parseCommand(line);
  assert.equal(result.ok, false, `"${line}" should not parse`);
  return result.ok ? '' : result.error;
}

/** Terminal controls, C1 controls, escape sequences, bidi controls and zero-width characters, with a second line. */
const HOSTILE = '\x1b]0;owned\x07\x1b[2J\u009b1m\u200b\u200e\u202e\u2066\ufeff\r\nfake line';

/** Whatever in `text` could drive a terminal or hide in it. */
function unsafeCharacters(text: string): string[] {
  return [...text].filter((c) => {
    const code = c.codePointAt(0)!;
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f)) return true;
    return /[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/u.test(c);
  });
}

/** A small real Socket.IO server that plays a hostile message center as `setup` says; resolves with its port. */
async function hostileServer(t: TestContext, setup: (io: Server) => void): Promise<number> {
  const http = createServer();
  const io = new Server(http);
  setup(io);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => io.close(() => resolve(undefined))));
  return (http.address() as AddressInfo).port;
}

after(async () => {
  for (const cli of processes) cli.kill();
  await Promise.all([...servers].map((s) => s.close()));
});

describe('parley terminal client', { concurrency: 3 }, () => {
  test('--help prints the usage; no server named is a usage error', async (t) => {
    const help = launch(t, ['--help']);
    assert.equal(await help.exitCode(), 0);
    assert.match(help.stdout, /parley HOST PORT/);

    const bare = launch(t, []);
    assert.equal(await bare.exitCode(), 2);
    assert.match(bare.stderr, /parley: say which server to connect to/);
  });

  test('an unreachable server is a clear error and exit code 1', async (t) => {
    const port = await refusedPort();

    const cli = launch(t, [`http://127.0.0.1:${port}`]);
    assert.equal(await cli.exitCode(), 1);
    assert.match(cli.stdout, new RegExp(`Cannot reach a Parley server at http://127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(cli.stderr, /Username:/, 'no sign-in without a server');
  });

  test('a server speaking another protocol version is refused with its message and exit code 1', async (t) => {
    const http = createServer();
    const io = new Server(http);
    io.use((_socket, next) => {
      const err = new Error('This server speaks Parley protocol 7; the client sent 1. Update the client.') as Error & { data?: unknown };
      err.data = { code: 'UNSUPPORTED_VERSION', supported: [7] };
      next(err);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => io.close(() => resolve(undefined))));

    const cli = launch(t, ['127.0.0.1', String((http.address() as AddressInfo).port)]);
    assert.equal(await cli.exitCode(), 1);
    assert.match(cli.stdout, /This server speaks Parley protocol 7; the client sent 1\. Update the client\./);
  });

  test('a wrong password asks again with attempts left; then whoelse, wholast and logout', async (t) => {
    const srv = await serve(t, ['ann', 'ben', 'cid']);
    const ben = await srv.signIn('ben');
    const cli = launch(t, ['127.0.0.1', String(srv.port)]);

    cli.write('ann', 'not-the-password');
    await cli.waitFor(/^Invalid username or password\. 2 attempts left\.$/m);
    assert.ok(cli.running, 'a wrong password is not fatal');
    await cli.waitForStderr(/^Username: Password: Username: /); // it asks again, prompts on stderr

    cli.write('ann', passwordOf('ann'));
    await cli.waitFor(/^Welcome to Parley, ann!.*\nOnline now: ben$/m);
    assert.doesNotMatch(cli.stdout, /Username|Password/, 'prompts stay out of stdout');

    const cid = await srv.signIn('cid');
    await cli.waitFor(/^\* cid is online$/m);
    cid.close();
    await cli.waitFor(/^\* cid went offline$/m);

    cli.write('whoelse');
    await cli.waitFor(/^Online now: ben$/m);
    cli.write('wholast 5');
    await cli.waitFor(/^Online in the last 5 minutes: ben, cid$/m);

    const gone = nextEvent(ben, 'presence', (e) => e.username === 'ann' && !e.online);
    cli.write('logout');
    await cli.waitFor(/^You have signed out\.$/m);
    assert.equal(await cli.exitCode(), 0);
    await gone;
    assert.deepEqual((await ben.whoelse()).users, []);
  });

  test('three wrong passwords lock the account out: seconds remaining shown, exit code 1', async (t) => {
    const srv = await serve(t, ['lou']);
    const cli = launch(t, ['127.0.0.1', String(srv.port)]);
    cli.write('lou', 'wrong-1', 'lou', 'wrong-2', 'lou', 'wrong-3', 'lou', passwordOf('lou'));
    await cli.waitFor(/2 attempts left\./);
    await cli.waitFor(/1 attempt left\./);
    await cli.waitFor(/This account is now locked from your address\. Try again in 30 seconds\./);
    assert.equal(await cli.exitCode(), 1);
    assert.doesNotMatch(cli.stdout, /Welcome/, 'the right password after the lockout is not even tried');
  });

  test('alone online: bad syntax shows the parser error and keeps going; help lists the commands', async (t) => {
    const srv = await serve(t, ['solo']);
    const cli = await signedIn(t, srv.port, 'solo');
    await cli.waitFor(/^Nobody else is online\.$/m);

    for (const line of ['wholast', 'wholast 99', 'broadcast user bob hi', 'frobnicate']) {
      cli.write(line);
      await cli.waitFor(new RegExp(`^${literal(parserError(line))}$`, 'm'));
    }
    cli.write('help');
    for (const { usage, summary } of COMMAND_HELP) await cli.waitFor(new RegExp(`^  ${literal(usage)} +${literal(summary)}$`, 'm'));

    cli.write('', '   ', 'whoelse', 'blocklist');
    await cli.waitFor(/^Nobody else is online\.$/m);
    await cli.waitFor(/^You have not blocked anyone\.$/m);
    assert.ok(cli.running);
    assert.doesNotMatch(cli.stdout, /type a command/, 'blank lines are ignored');
  });

  test('messages: sent, received with sender and time, offline recipient noted, unknown user refused', async (t) => {
    const srv = await serve(t, ['cara', 'dan', 'eve']);
    const dan = await srv.signIn('dan');
    const cli = await signedIn(t, srv.port, 'cara');

    const got = nextEvent(dan, 'message');
    cli.write('message dan hi dan,  two spaces');
    await cli.waitFor(/^Sent to dan\.$/m);
    const [sent] = await got;
    assert.deepEqual([sent.from, sent.to, sent.kind, sent.body], ['cara', 'dan', 'direct', 'hi dan,  two spaces']);

    const { sentAt } = await dan.message('cara', 'hello cara');
    await cli.waitFor(new RegExp(`^\\[${expectedStamp(sentAt)}\\] dan: hello cara$`, 'm'));

    cli.write('message eve see you later');
    await cli.waitFor(/^Sent to eve, who is offline and will get it on signing in\.$/m);

    cli.write('message nobody hi', 'message cara me?');
    await cli.waitFor(/^error: There is no user named "nobody"\.$/m);
    await cli.waitFor(/^error: You cannot send a message to yourself\.$/m);
    assert.ok(cli.running);
  });

  test('broadcasts: sent with the delivered count, received marked as broadcast', async (t) => {
    const srv = await serve(t, ['bo', 'dan', 'erin']);
    const [dan, erin] = [await srv.signIn('dan'), await srv.signIn('erin')];
    const cli = await signedIn(t, srv.port, 'bo');

    const arrivals = [dan, erin].map((c) => nextEvent(c, 'message', (m) => m.kind === 'broadcast' && m.from === 'bo'));
    cli.write('broadcast message hello all');
    await cli.waitFor(/^Broadcast sent to 2 users\.$/m);
    for (const [m] of await Promise.all(arrivals)) assert.equal(m.body, 'hello all');

    const { sentAt } = await dan.broadcast('to everyone');
    await cli.waitFor(new RegExp(`^\\[${expectedStamp(sentAt)}\\] dan \\(broadcast\\): to everyone$`, 'm'));

    const toErin = nextEvent(erin, 'message', (m) => m.from === 'bo');
    cli.write('broadcast user erin message just you');
    await cli.waitFor(/^Broadcast sent to 1 user\.$/m);
    const [toErinMessage] = await toErin;
    assert.deepEqual([toErinMessage.kind, toErinMessage.body], ['broadcast', 'just you']);
  });

  test('a message sent while signed out is printed once at sign-in, with its original date and time', async (t) => {
    const threeDays = 3 * 24 * 60 * 60_000;
    const srv = await serve(t, ['olga', 'ray'], { clock: new TestClock(Date.now() - threeDays, true) });
    const ray = await srv.signIn('ray');
    const { sentAt, online } = await ray.message('olga', 'sent while you were away');
    assert.equal(online, false);

    const cli = await signedIn(t, srv.port, 'olga');
    const stamp = expectedStamp(sentAt);
    assert.match(stamp, /^\d{4}-\d\d-\d\d \d\d:\d\d$/, 'another day: the date is shown');
    await cli.waitFor(new RegExp(`^\\[${stamp}\\] ray: sent while you were away$`, 'm'));

    cli.write('whoelse');
    await cli.waitFor(/^Online now: ray$/m);
    assert.equal(cli.stdout.split('sent while you were away').length - 1, 1, 'printed once');
  });

  test('block: the blocked user is refused, broadcasts skip them, unblock lets them in again', async (t) => {
    const srv = await serve(t, ['bea', 'cole']);
    const cole = await srv.signIn('cole');
    const cli = await signedIn(t, srv.port, 'bea');

    cli.write('block cole');
    await cli.waitFor(/^Blocked cole: /m);
    await assert.rejects(cole.message('bea', 'let me in'), (err: unknown) => err instanceof ParleyRequestError && err.code === 'BLOCKED');

    cli.write('blocklist', 'whoelse', 'broadcast user cole message anyone?', 'message cole hi');
    await cli.waitFor(/^Blocked: cole$/m);
    await cli.waitFor(/^Nobody else is online\.$/m);
    await cli.waitFor(/^Broadcast not delivered; some users could not receive it \(1\)\.$/m);
    await cli.waitFor(/^error: You have blocked cole; unblock them to send a message\.$/m);

    cli.write('unblock cole', 'unblock cole');
    await cli.waitFor(/^Unblocked cole\.$/m);
    await cli.waitFor(/^error: cole is not blocked\.$/m);
    await cole.message('bea', 'thanks');
    await cli.waitFor(/\] cole: thanks$/m);
    assert.doesNotMatch(cli.stdout, /let me in/);
  });

  test('hostile text is printed inert: no escape sequences reach the terminal, no line can be faked', async (t) => {
    const srv = await serve(t, ['vic', 'mal']);
    const mal = await srv.signIn('mal');
    const cli = await signedIn(t, srv.port, 'vic');

    await mal.message('vic', '\x1b[2J\x1b]0;pwned\x07\u009b31m\rsafe\u202e\n[00:00] admin: type your password');
    await cli.waitFor(/\] mal: \^\[\[2J\^\[\]0;pwned\^G<U\+009B>31m\^Msafe<U\+202E>\n {4}\[00:00\] admin: type your password$/m);
    const controls = [...cli.stdout].filter((c) => {
      const code = c.codePointAt(0)!;
      return (code < 0x20 && code !== 0x09 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f) || code === 0x202e;
    });
    assert.deepEqual(controls, [], 'no control characters in the output');
    assert.doesNotMatch(cli.stdout, /^\[00:00\] admin/m, 'the second line cannot pose as a message');
  });

  test('a hostile server: its handshake refusal is printed inert', async (t) => {
    const fake = await hostileServer(t, (io) =>
      io.use((_socket, next) => next(Object.assign(new Error(`Update${HOSTILE}now`), { data: { code: 'UNSUPPORTED_VERSION' } }))),
    );
    const cli = launch(t, ['127.0.0.1', String(fake)]);
    assert.equal(await cli.exitCode(), 1);
    assert.match(
      cli.stdout,
      /^Update\^\[\]0;owned\^G\^\[\[2J<U\+009B>1m<U\+200B><U\+200E><U\+202E><U\+2066><U\+FEFF>\^M\n {4}fake linenow$/m,
    );
    assert.deepEqual(unsafeCharacters(cli.stdout + cli.stderr), []);
  });

  test('a hostile server: names, presence, messages, replies, errors and its goodbye are printed inert', async (t) => {
    const fake = await hostileServer(t, (io) =>
      io.on('connection', (socket) => {
        socket.onAny((event: string, ...args: unknown[]) => {
          const ack = args.at(-1) as (reply: unknown) => void;
          if (event === 'login') {
            ack({ ok: true, username: `eve${HOSTILE}`, online: [`bob${HOSTILE}`] });
            socket.emit('presence', [{ username: `carl${HOSTILE}`, online: true, at: Date.now() }]);
            const body = `hi${HOSTILE} \u{1f469}\u200d\u{1f4bb} a\u200db`;
            socket.emit('message', { id: 1, from: `mal${HOSTILE}`, to: 'eve', kind: 'direct', body, sentAt: Date.now() });
          } else if (event === 'peer' || event === 'whoelse')
            ack({ ok: false, error: { code: 'INTERNAL', message: `${event}${HOSTILE}` } });
          else if (event === 'wholast') ack({ ok: true, users: [`dan${HOSTILE}`] });
          else if (event === 'logout') {
            // The goodbye before the answer: after the answer the client may exit before it reads the goodbye.
            socket.emit('signedOut', { reason: 'logout', message: `bye${HOSTILE}` });
            ack({ ok: true });
          }
        });
      }),
    );
    const cli = launch(t, ['127.0.0.1', String(fake)]);
    cli.write('eve', 'whatever');
    await cli.waitFor(/mal\^\[\]0;owned.*: hi\^\[\]0;owned/);
    cli.write('whoelse');
    await cli.waitFor(/^error: whoelse\^\[\]0;owned/m);
    cli.write('wholast 5');
    await cli.waitFor(/^Online in the last 5 minutes: dan\^\[\]0;owned/m);
    cli.write('logout');
    assert.equal(await cli.exitCode(), 0);

    const inert = '^[]0;owned^G^[[2J<U+009B>1m<U+200B><U+200E><U+202E><U+2066><U+FEFF>^M';
    const out = cli.stdout;
    for (const shown of [
      `Welcome to Parley, eve${inert}^Jfake line!`,
      `Online now: bob${inert}^Jfake line`,
      `* carl${inert}^Jfake line is online`,
      `error: direct connections are unavailable: peer${inert}\n    fake line`,
      `bye${inert}\n    fake line`,
    ]) {
      assert.ok(out.includes(shown), `expected ${JSON.stringify(shown)} in:\n${out}`);
    }
    assert.ok(out.includes(' \u{1f469}\u200d\u{1f4bb} a<U+200D>b'), 'a joiner inside an emoji sequence is kept, any other is shown');
    assert.doesNotMatch(out, /^fake line/m, 'no line of the server’s text stands on its own');
    assert.deepEqual(unsafeCharacters(out.replace('\u{1f469}\u200d\u{1f4bb}', '')), []);
    assert.deepEqual(unsafeCharacters(cli.stderr), []);
  });

  test('end of input signs out and exits 0', async (t) => {
    const srv = await serve(t, ['eli', 'fay']);
    const fay = await srv.signIn('fay');
    const cli = await signedIn(t, srv.port, 'eli');
    const gone = nextEvent(fay, 'presence', (e) => e.username === 'eli' && !e.online);
    cli.write('whoelse');
    cli.end();
    assert.equal(await cli.exitCode(), 0);
    assert.match(cli.stdout, /^Online now: fay\n.*signed out/m, 'commands piped before the end still run');
    await gone;
  });

  test('end of input before signing in exits 0 without signing in', async (t) => {
    const srv = await serve(t, ['gus']);
    const cli = launch(t, ['127.0.0.1', String(srv.port)]);
    cli.write('gus');
    cli.end();
    assert.equal(await cli.exitCode(), 0);
    assert.doesNotMatch(cli.stdout, /Welcome/);
  });

  test('SIGINT (Ctrl-C) signs out and exits 0', async (t) => {
    const srv = await serve(t, ['ivy', 'jo']);
    const jo = await srv.signIn('jo');
    const cli = await signedIn(t, srv.port, 'ivy');
    const gone = nextEvent(jo, 'presence', (e) => e.username === 'ivy' && !e.online);
    cli.child.kill('SIGINT');
    assert.equal(await cli.exitCode(), 0);
    await gone;
    assert.match(cli.stdout, /^You have signed out\.$/m);
  });

  test('the server shutting down: its message is printed, and the client signs in again when it is back', async (t) => {
    const first = await startServer({ users: ['kim'] });
    t.after(() => first.close());
    const cli = await signedIn(t, first.port, 'kim');
    await first.stop();
    await cli.waitFor(/^The server is shutting down\.$/m);
    await cli.waitFor(/^Waiting for the server to come back/m);
    const second = await startServer({ dataDir: first.dataDir, port: first.port });
    t.after(() => second.stop());
    await cli.waitFor(/^Reconnected as kim\.$/m, 8000);
    cli.write('whoelse');
    await cli.waitFor(/^Nobody else is online\.$/m);
    cli.child.kill('SIGINT');
    assert.equal(await cli.exitCode(), 0);
  });

  test("an account removed while signed in: the server's message is printed and the client exits 0", async (t) => {
    const srv = await serve(t, ['zed']);
    const cli = await signedIn(t, srv.port, 'zed');
    await srv.server.accounts.remove('zed');
    await cli.waitFor(/^Your account was removed\.$/m);
    assert.equal(await cli.exitCode(), 0);
  });

  test('an idle timeout from the server is printed and the client exits 0', async (t) => {
    const srv = await serve(t, ['ida'], { timings: { idleTimeoutMs: 1500, sweepIntervalMs: 100 } });
    const cli = await signedIn(t, srv.port, 'ida');
    await cli.waitFor(/^You were signed out after 2 seconds without activity\.$/m, 4000);
    assert.equal(await cli.exitCode(), 0);
  });

  test('a dropped connection is announced, then resumed by itself', async (t) => {
    const srv = await serve(t, ['rick', 'sam']);
    const cli = await signedIn(t, srv.port, 'rick');
    const sockets = [...srv.server.io.sockets.sockets.values()];
    assert.equal(sockets.length, 1, "only the terminal client's connection");
    sockets[0]!.conn.close(); // the transport drops: no sign-out, so the client reconnects
    await cli.waitFor(/^Connection lost; reconnecting\.\.\.$/m);
    cli.write('whoelse');
    await cli.waitFor(/^Reconnected as rick\.$/m);
    await cli.waitFor(/^Nobody else is online\.$/m);

    const sam = await srv.signIn('sam');
    await cli.waitFor(/^\* sam is online$/m);
    await sam.message('rick', 'still there?');
    await cli.waitFor(/\] sam: still there\?$/m);
  });

  test('signing in again after a dropped connection fails (the password changed meanwhile): said so, exit code 1', async (t) => {
    const srv = await serve(t, ['uma']);
    const cli = await signedIn(t, srv.port, 'uma');
    // Written to the store behind the server's back: a password changed through the server signs its sessions out at once
    // (test/server-admin-socket.test.ts), so this stands for one changed on the stopped data directory while the client waited.
    const { createdAt } = (await srv.server.store.getUser('uma'))!;
    await srv.server.store.putUser('uma', await hashPassword('changed-meanwhile', TEST_SCRYPT), createdAt);
    await srv.server.store.deleteSessionTokensOf('uma'); // and its session token gone: the client falls back to the password
    const sockets = [...srv.server.io.sockets.sockets.values()];
    assert.equal(sockets.length, 1, "only the terminal client's connection");
    sockets[0]!.conn.close();
    await cli.waitFor(/^Connection lost; reconnecting\.\.\.$/m);
    await cli.waitFor(/^error: could not sign in again: Invalid username or password\. 2 attempts left\.$/m);
    assert.equal(await cli.exitCode(), 1);
  });
});
