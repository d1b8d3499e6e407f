import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { expectedStamp, line, nextEvent, prompt, signedInTerminal, startCliServer, type CliServer } from './helpers/cli-harness';
import { assertServerCarriedNoPrivateChat, captureServerTraffic, closePeers, nextPrivate, peer, type Peer } from './private-helpers';

/**
 * The terminal's conversations with people, driven through stdin against a real server: `query` makes one current (through the
 * server, or over the direct, encrypted chat), plain lines go to it, `/` lines are commands and `/close` goes back. The prompt,
 * which piped input does not get in command mode, is written to stderr in a conversation.
 */

const servers: CliServer[] = [];
const peers: Peer[] = [];

after(async () => {
  await closePeers(...peers);
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(users: string[]): Promise<CliServer> {
  const srv = await startCliServer(users);
  servers.push(srv);
  return srv;
}

describe('terminal conversations with people', { concurrency: 2 }, () => {
  test('query: the latest page, then plain lines to them, "/" commands, "//" text, others marked; close goes back', async (t) => {
    const srv = await serve(['ann', 'bob', 'cid']);
    const bob = await srv.signIn('bob');
    const cid = await srv.signIn('cid');
    const cli = await signedInTerminal(t, srv.port, 'ann');

    cli.write('query nobody');
    await cli.waitFor(line('error: There is no user named "nobody".'));
    cli.write('whoelse');
    await cli.waitFor(line('Online now: bob, cid'), 5000); // still command mode

    const earlier = await bob.message('ann', 'before the query');
    await cli.waitFor(line(`[${expectedStamp(earlier.sentAt)}] bob: before the query`));
    cli.write('message bob my answer');
    await cli.waitFor(line('Sent to bob.'));

    cli.write('query bob');
    const mine = (await bob.history({ with: 'ann' })).messages.at(-1)!;
    await cli.waitFor(line(`[${expectedStamp(earlier.sentAt)}] bob: before the query`));
    await cli.waitFor(line(`[${expectedStamp(mine.sentAt)}] ann -> bob: my answer`));
    await cli.waitFor(line('2 messages of your conversation with bob, back to the first.'));
    await cli.waitFor(
      line(
        'Now in a conversation with bob: plain lines go to them through the server; "/" starts a command ("//" sends a line that starts with "/"), "/close" goes back to commands.',
      ),
    );
    await cli.waitForStderr(prompt('bob> '));

    for (const [typed, sent] of [
      ['hello bob', 'hello bob'],
      ['whoelse', 'whoelse'], // a bare command's word is text here
      ['//etc/hosts is the file', '/etc/hosts is the file'],
    ]) {
      const got = nextEvent(bob, 'message', (m) => m.from === 'ann');
      cli.write(typed!);
      const [message] = await got;
      assert.deepEqual([message.kind, message.to, message.body], ['direct', 'bob', sent]);
    }
    cli.write('/whoelse');
    await cli.waitFor(line('Online now: bob, cid'));
    cli.write('/wholast 5');
    await cli.waitFor(line('Online in the last 5 minutes: bob, cid'));
    cli.write('/frobnicate');
    await cli.waitFor(line('unknown command "/frobnicate"; "/help" lists them (start with "//" to send a message that starts with "/")'));

    const reply = await bob.message('ann', 'in the conversation');
    await cli.waitFor(line(`[${expectedStamp(reply.sentAt)}] bob: in the conversation`));
    const aside = await cid.message('ann', 'psst');
    await cli.waitFor(line(`[${expectedStamp(aside.sentAt)}] cid (direct): psst`));
    const everyone = await cid.broadcast('to all');
    await cli.waitFor(line(`[${expectedStamp(everyone.sentAt)}] cid (broadcast): to all`));

    cli.write('/history'); // the page before the one shown on entering: there is none
    await cli.waitFor(line('Nothing older in your conversation with bob.'));

    cid.close();
    await cli.waitFor(line('* cid went offline'));
    cli.write('/close');
    await cli.waitFor(line('Back to commands.'));
    cli.write('whoelse');
    await cli.waitFor(line('Online now: bob'));
    cli.write('history bob');
    await cli.waitFor(line(`[${expectedStamp(reply.sentAt)}] bob: in the conversation`));
    await cli.waitFor(line('6 messages of your conversation with bob, back to the first.'));
    cli.write('/close');
    await cli.waitFor(line('No conversation is open: this is command mode.'));
    cli.write('//not sent');
    await cli.waitFor(line('"//" sends a line in a conversation; "/join #<channel>" or "/query <user>" opens one.'));
    assert.equal(cli.stdout.split('Sent to bob.').length - 1, 1, 'only the bare "message" command was answered, no plain line');
    assert.deepEqual(cli.stdout.match(/^error: .*$/gm), ['error: There is no user named "nobody".']);
  });

  test('a message to someone offline from their conversation says so; logout in a conversation signs out', async (t) => {
    const srv = await serve(['dee', 'eve']);
    const cli = await signedInTerminal(t, srv.port, 'dee');
    cli.write('query eve');
    await cli.waitFor(line('No messages in your conversation with eve yet.'));
    await cli.waitForStderr(prompt('eve> '));
    cli.write('kept for later');
    await cli.waitFor(line('eve is offline and will get it on signing in.'));
    const eve = await srv.signIn('eve');
    assert.deepEqual(
      (await eve.history({ with: 'dee' })).messages.map((m) => m.body),
      ['kept for later'],
    );
    cli.write('logout'); // text here
    await cli.waitFor(/^\* eve is online$/m);
    cli.write('/logout');
    await cli.waitFor(line('You have signed out.'));
    assert.equal(await cli.exitCode(), 0);
  });

  test('query <user> private: its own conversation, said direct and encrypted; it ends with the chat', async (t) => {
    const srv = await serve(['fay', 'gus']);
    const gus = await peer(srv, 'gus');
    peers.push(gus);
    const traffic = captureServerTraffic(srv.server);
    const cli = await signedInTerminal(t, srv.port, 'fay');

    const opened = nextPrivate(gus.channels, 'opened');
    cli.write('query gus private');
    const code = (await opened)[0].safetyCode;
    await cli.waitFor(
      line(`* private chat with gus is open (direct, encrypted); safety code ${code}: the same on gus's screen means nobody is in between`),
    );
    await cli.waitFor(
      line(
        'Now in a private chat with gus: plain lines go to them directly, encrypted, never through the server; "/" starts a command ("//" sends a line that starts with "/"), "/close" goes back to commands.',
      ),
    );
    await cli.waitForStderr(prompt('gus (private, encrypted)> '));

    const mark = traffic.length;
    const got = nextPrivate(gus.channels, 'message');
    cli.write('the key is under the mat');
    assert.equal((await got)[0].body, 'the key is under the mat');
    const answer = gus.channels.send('fay', 'thanks');
    await cli.waitFor(line(`[${expectedStamp(answer.at)}] gus (private): thanks`));
    assert.doesNotMatch(cli.stdout, /Sent privately/, 'a plain line is not answered');
    cli.write('/history');
    await cli.waitFor(line('A private chat keeps no history: nothing of it went through the server.'));
    assertServerCarriedNoPrivateChat(traffic, { secrets: ['under the mat', 'thanks'], mark, allow: ['presence'] });

    // Already open: the same conversation, no second chat.
    cli.write('/close', 'query gus private');
    await cli.waitFor(line('Back to commands.'));
    await cli.waitFor(/^Now in a private chat with gus: /m);

    gus.channels.stop('fay');
    await cli.waitFor(/^\* private chat with gus is closed \(.+\)$/m);
    await cli.waitFor(line('Back to commands.'));
    // The next line is a command again: nothing goes to gus, through the server or not.
    const sent = nextEvent(gus.client, 'message').then(
      () => true,
      () => false,
    );
    cli.write('whoelse');
    await cli.waitFor(line('Online now: gus'));
    assert.equal(await sent, false, 'nothing reached gus');
  });
});
