import assert from 'node:assert/strict';
import { after, describe, test, type TestContext } from 'node:test';
import { generatePeerKeys } from '../src/client/private-crypto';
import { COMMAND_HELP, parseCommand } from '../src/protocol';
import { CliProcess, literal, passwordOf, startCliServer, type CliServer } from './helpers/cli-harness';
import { refusedPort } from './helpers/server';
import {
  assertServerCarriedNoPrivateChat,
  captureServerTraffic,
  closePeers,
  dial,
  handshake,
  nextPrivate,
  pause,
  peer,
  type Peer,
} from './private-helpers';

const processes = new Set<CliProcess>();
const cleanups: (() => Promise<void>)[] = [];

async function serve(t: TestContext, users: string[], options?: Parameters<typeof startCliServer>[1]): Promise<CliServer> {
  const server = await startCliServer(users, options);
  t.after(() => server.close());
  cleanups.push(() => server.close());
  return server;
}

async function other(t: TestContext, srv: CliServer, name: string, options?: Parameters<typeof peer>[2]): Promise<Peer> {
  const p = await peer(srv, name, options);
  t.after(() => closePeers(p));
  return p;
}

/** The terminal client signed in as `username`. */
async function terminal(t: TestContext, port: number, username: string): Promise<CliProcess> {
  const cli = new CliProcess(['127.0.0.1', String(port)]);
  processes.add(cli);
  t.after(() => cli.kill());
  cli.write(username, passwordOf(username));
  await cli.waitFor(new RegExp(`Welcome to Parley, ${username}!`));
  return cli;
}

const line = (text: string): RegExp => new RegExp(`^${literal(text)}$`, 'm');
/** The line saying a private chat opened; its first group is the safety code. */
const opened = (user: string): RegExp =>
  new RegExp(
    `^${literal(`* private chat with ${user} is open (direct, encrypted); safety code `)}(\\d{4} \\d{4} \\d{4})${literal(
      `: the same on ${user}'s screen means nobody is in between`,
    )}$`,
    'm',
  );
const closed = (user: string, why: string): RegExp => line(`* private chat with ${user} is closed (${why})`);

after(async () => {
  for (const cli of processes) cli.kill();
  await Promise.all(cleanups.map((c) => c()));
});

describe('private chat in the terminal client', { concurrency: 2 }, () => {
  test('startprivate, private both ways (marked), getaddress on an open chat, stopprivate; the server never sees the text', async (t) => {
    const srv = await serve(t, ['ann', 'ben']);
    const traffic = captureServerTraffic(srv.server);
    const ben = await other(t, srv, 'ben');
    const cli = await terminal(t, srv.port, 'ann');

    const benOpened = nextPrivate(ben.channels, 'opened');
    cli.write('startprivate ben');
    const [, code] = await cli.waitFor(opened('ben'));
    // Both ends derived the same safety code: what the two users would read out to each other.
    assert.deepEqual((await benOpened)[0], { username: 'ann', direction: 'incoming', safetyCode: code });
    assert.equal(ben.channels.safetyCodeOf('ann'), code);

    const mark = traffic.length;
    const toBen = nextPrivate(ben.channels, 'message');
    cli.write('private ben the  package is   in locker 7');
    await cli.waitFor(line('Sent privately to ben.'));
    assert.equal((await toBen)[0].body, 'the  package is   in locker 7');
    ben.channels.send('ann', 'locker 7, got it\nsee you');
    await cli.waitFor(/^\[\d\d:\d\d\] ben \(private\): locker 7, got it\n {4}see you$/m);

    cli.write('startprivate ben', 'getaddress ben');
    await cli.waitFor(line('A private chat with ben is already open; "private ben <text>" sends there.'));
    await cli.waitFor(line('A private chat with ben is already open; "private ben <text>" sends there.'));

    const benClosed = nextPrivate(ben.channels, 'closed');
    cli.write('stopprivate ben');
    await cli.waitFor(closed('ben', 'you stopped it'));
    assert.deepEqual((await benClosed)[0], { username: 'ann', reason: 'stopped', byPeer: true });
    cli.write('private ben anyone?');
    await cli.waitFor(
      line('error: No private chat with ben is open; "startprivate ben" opens one, or "message ben <text>" sends through the server.'),
    );
    // ann's own sign-in may be announced to ben late (presence comes in batches): not part of the chat.
    assertServerCarriedNoPrivateChat(traffic, { secrets: ['locker', 'anyone?'], mark, allow: ['presence'] });
    assert.ok(cli.running);
  });

  test('refusals are explained and nothing is rerouted: offline, unknown, no listener, unreachable, bad syntax', async (t) => {
    const srv = await serve(t, ['cy', 'dee', 'eli', 'fox']);
    const closedPort = await refusedPort();
    await srv.signIn('dee'); // signed in without a peer listener
    await other(t, srv, 'eli', { advertise: { port: closedPort } });
    const cli = await terminal(t, srv.port, 'cy');

    cli.write('startprivate fox');
    await cli.waitFor(line('error: fox is not online; "message fox <text>" keeps a message for them.'));
    cli.write('getaddress nobody');
    await cli.waitFor(line('error: There is no user named "nobody".'));
    cli.write('startprivate dee');
    await cli.waitFor(
      line('error: dee is online but their client takes no direct connections; "message dee <text>" sends through the server.'),
    );
    cli.write('startprivate eli');
    await cli.waitFor(
      new RegExp(
        `^error: Cannot reach eli directly at 127\\.0\\.0\\.1:${closedPort} \\(.+\\)\\. Nothing was sent; "message eli <text>" sends through the server instead\\.$`,
        'm',
      ),
    );
    for (const bad of ['startprivate', 'private eli', 'stopprivate a b', 'getaddress eli now']) {
      const result = parseCommand(bad);
      assert.ok(!result.ok);
      cli.write(bad);
      await cli.waitFor(line(result.error));
    }
    cli.write('help');
    for (const name of ['startprivate', 'getaddress', 'private', 'stopprivate']) {
      const help = COMMAND_HELP.find((h) => h.usage.startsWith(`${name} `))!;
      await cli.waitFor(new RegExp(`^  ${literal(help.usage)} +${literal(help.summary)}$`, 'm'));
    }
    assert.ok(cli.running);
  });

  test('a chat the peer opens; a refused connection is shown; a block closes the chat; logout tells the peer', async (t) => {
    const srv = await serve(t, ['gil', 'hap']);
    const hap = await other(t, srv, 'hap');
    const cli = await terminal(t, srv.port, 'gil');

    await hap.channels.start('gil');
    await cli.waitFor(opened('hap'));
    hap.channels.send('gil', 'psst');
    await cli.waitFor(/^\[\d\d:\d\d\] hap \(private\): psst$/m);

    // A connection with a ticket the message center did not sign: refused, and the user hears of it.
    const genuine = await hap.client.request('startprivate', { username: 'gil', publicKey: generatePeerKeys().publicKey });
    await assert.rejects(
      dial(
        genuine,
        handshake(
          genuine.ticket.replace(/\.(.)/, (_, c: string) => `.${c === 'A' ? 'B' : 'A'}`),
          'x'.repeat(43),
        ),
      ),
    );
    await cli.waitFor(
      line('* refused a direct connection from 127.0.0.1: the ticket is malformed or its signature is not the message center’s (forged)'),
    );

    const hapClosed = nextPrivate(hap.channels, 'closed');
    cli.write('block hap');
    await cli.waitFor(closed('hap', 'blocked'));
    assert.equal((await hapClosed)[0].reason, 'blocked');
    cli.write('unblock hap');
    await cli.waitFor(line('Unblocked hap.'));
    await pause(5); // tickets from the millisecond of the block stay void
    await hap.channels.start('gil');
    await cli.waitFor(opened('hap'));

    const signedOut = nextPrivate(hap.channels, 'closed');
    cli.write('logout');
    await cli.waitFor(closed('hap', 'you signed out'));
    assert.deepEqual((await signedOut)[0], { username: 'gil', reason: 'signed-out', byPeer: true });
    assert.equal(await cli.exitCode(), 0);
  });

  test('an open chat goes on while the message center is down; Ctrl-D still says goodbye to the peer', async (t) => {
    const srv = await serve(t, ['ivo', 'jan']);
    const jan = await other(t, srv, 'jan');
    const cli = await terminal(t, srv.port, 'ivo');
    cli.write('startprivate jan');
    await cli.waitFor(opened('jan'));

    await srv.stop();
    await cli.waitFor(/^(The server is shutting down\.|Connection lost; reconnecting\.\.\.)$/m);
    const toJan = nextPrivate(jan.channels, 'message');
    cli.write('private jan server is gone, we are not');
    await cli.waitFor(line('Sent privately to jan.'));
    assert.equal((await toJan)[0].body, 'server is gone, we are not');
    jan.channels.send('ivo', 'still here');
    await cli.waitFor(/^\[\d\d:\d\d\] jan \(private\): still here$/m);

    const goodbye = nextPrivate(jan.channels, 'closed');
    cli.end();
    assert.deepEqual((await goodbye)[0], { username: 'ivo', reason: 'signed-out', byPeer: true });
    assert.equal(await cli.exitCode(), 0);
  });

  test('signed out for idleness with a private chat open: the chat goes on, and the session ends with it', async (t) => {
    const srv = await serve(t, ['kit', 'lu'], { timings: { idleTimeoutMs: 3000, sweepIntervalMs: 100 } });
    const cli = await terminal(t, srv.port, 'lu');
    const kit = await other(t, srv, 'kit'); // after the terminal's slow start, so that kit is not idle yet
    cli.write('startprivate kit');
    await cli.waitFor(opened('kit'));
    await cli.waitFor(line('You were signed out after 3 seconds without activity.'), 6000);
    await cli.waitFor(/^Private chats with kit stay open \(direct\); .*"logout" or Ctrl-D ends the session\.$/m);
    kit.channels.send('lu', 'talking, not idle');
    await cli.waitFor(/^\[\d\d:\d\d\] kit \(private\): talking, not idle$/m);
    kit.channels.stop('lu');
    await cli.waitFor(closed('kit', 'kit stopped it'));
    await cli.waitFor(line('No private chats left and no server; the session ends.'));
    assert.equal(await cli.exitCode(), 0);
  });
});
