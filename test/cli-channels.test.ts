import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { ParleyClient } from '../src/client/parley-client';
import { expectedStamp, line, nextEvent, prompt, signedInTerminal, startCliServer, type CliServer } from './helpers/cli-harness';
import { eventually } from './helpers/server';

/**
 * Channels in the terminal, through stdin against a real server (protocol 3): unread channels at sign-in, channel
 * messages marked in command mode, `join` as a conversation (its latest page, read on showing, plain lines posted),
 * the channel commands, paging back, and a conversation that ends when its channel goes away.
 */

const servers: CliServer[] = [];

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function post(client: ParleyClient, channel: string, body: string): Promise<string> {
  return expectedStamp((await client.post(channel, body)).sentAt);
}

async function unreadIn(client: ParleyClient, channel: string): Promise<number | undefined> {
  return (await client.request('conversations', {})).channels.find((c) => c.name === channel)?.unread;
}

describe('channels in the terminal', { concurrency: 2 }, () => {
  test('unread at sign-in, marked lines in command mode, join as a conversation that is read, posted to and paged', async (t) => {
    const srv = await startCliServer(['ann', 'bob', 'cid']);
    servers.push(srv);
    const bob = await srv.signIn('bob');
    const first = await post(bob, 'general', 'morning all');
    await post(bob, 'general', 'standup at ten');
    await post(bob, 'general', '@ann can you run it?');

    const cli = await signedInTerminal(t, srv.port, 'ann');
    await cli.waitFor(line('Unread in #general (3, 1 mentioning you): "/join #<channel>" shows them.'));

    // Command mode: a channel's lines carry its name; a mention says so.
    const live = await post(bob, 'general', 'live one');
    await cli.waitFor(line(`[${live}] [#general] bob: live one`));
    const mention = await post(bob, 'general', 'thanks @ann.');
    await cli.waitFor(line(`[${mention}] [#general] bob (mentions you): thanks @ann.`));

    // Another session of ann's sees the read position move when the terminal shows the channel.
    const other = await srv.signIn('ann');
    assert.equal(await unreadIn(other, 'general'), 5);
    const read = nextEvent(other, 'read', (e) => 'channel' in e.conversation && e.conversation.channel === 'general');
    cli.write('/join #general');
    await cli.waitFor(line('Joined #general (public, 3 members).'));
    await cli.waitFor(line(`[${first}] bob: morning all`));
    await cli.waitFor(line(`[${mention}] bob (mentions you): thanks @ann.`)); // in its own conversation: no channel mark
    await cli.waitFor(line('5 messages of #general, back to the first.'));
    await cli.waitFor(/^Now in #general: plain lines go to its members; /m);
    await cli.waitForStderr(prompt('#general> '));
    assert.deepEqual((await read)[0].upTo, 5);
    assert.equal(await unreadIn(other, 'general'), 0);

    for (const [typed, sent] of [
      ['hello channel', 'hello channel'],
      ['//shrug', '/shrug'],
    ]) {
      const got = nextEvent(bob, 'message', (m) => m.from === 'ann');
      cli.write(typed!);
      const [message] = await got;
      assert.deepEqual([message.kind, message.channel, message.body], ['channel', 'general', sent]);
    }
    const here = await post(bob, 'general', 'in the conversation');
    await cli.waitFor(line(`[${here}] bob: in the conversation`));
    await eventually(async () => (await unreadIn(other, 'general')) === 0, 3000, 'a line shown in the conversation to count as read');
    const dm = await bob.message('ann', 'just you');
    await cli.waitFor(line(`[${expectedStamp(dm.sentAt)}] bob (direct): just you`));

    // The channel commands, from the conversation.
    cli.write('/create #dev', '/topic #dev build talk', '/invite #dev bob', '/members #dev');
    await cli.waitFor(line('Created #dev, public: anyone may join.'));
    await cli.waitFor(line('Topic of #dev: build talk'));
    await cli.waitFor(line('Added bob to #dev.'));
    await cli.waitFor(/^Members of #dev: (ann, bob|bob, ann)$/m);
    cli.write('/channels');
    await cli.waitFor(line('Channels (* you are a member):'));
    cli.write('/join dev');
    await cli.waitFor(line('Joined #dev (public, 2 members): build talk.'));
    await cli.waitFor(line('No messages in #dev yet.'));
    await cli.waitForStderr(prompt('#dev> '));
    const elsewhere = await post(bob, 'general', 'over here');
    await cli.waitFor(line(`[${elsewhere}] [#general] bob: over here`));

    // Paging back: the latest 20, then the ones before.
    for (let i = 1; i <= 22; i++) await bob.post('dev', `dev ${i}`);
    await cli.waitFor(/\] bob: dev 22$/m);
    cli.write('/history');
    await cli.waitFor(/\] bob: dev 3\n[\s\S]*\] bob: dev 22\n20 messages of #dev; history again shows the ones before\.$/m);
    cli.write('/history');
    await cli.waitFor(/\] bob: dev 1\n\[\d\d:\d\d\] bob: dev 2\n2 older messages of #dev, back to the first\.$/m);
    cli.write('/history');
    await cli.waitFor(line('Nothing older in #dev.'));

    cli.write('/rename #dev #devs');
    await cli.waitFor(line('Renamed #dev to #devs.'));
    await cli.waitForStderr(prompt('#devs> '));
    cli.write('after the rename');
    const lastOf = async (): Promise<string | undefined> => (await bob.history({ channel: 'devs' })).messages.at(-1)?.body;
    await eventually(async () => (await lastOf()) === 'after the rename', 3000, 'the line to be posted to the renamed channel');
    cli.write('/leave #devs');
    await cli.waitFor(line('Left #devs.'));
    await cli.waitFor(line('Back to commands.'));

    cli.write('leave #general', 'join #nope', 'join #No', 'delete #devs');
    await cli.waitFor(line('error: Everyone is a member of #general; it cannot be left.'));
    await cli.waitFor(line('error: There is no channel #nope.'));
    await cli.waitFor(line('"#No" is not a channel name: # and 1 to 32 lowercase letters, digits and "-"'));
    await cli.waitFor(line('Deleted #devs and its history.'));
  });

  test("others' changes are told, and a conversation ends when its channel is taken away", async (t) => {
    const srv = await startCliServer(['dee', 'eli']);
    servers.push(srv);
    const eli = await srv.signIn('eli');
    const cli = await signedInTerminal(t, srv.port, 'dee');

    await eli.request('createchannel', { name: 'ops', private: true });
    await eli.request('invite', { channel: 'ops', username: 'dee' });
    await cli.waitFor(line('* eli added dee to #ops'));
    cli.write('join #ops');
    await cli.waitFor(/^Now in #ops: /m);
    await eli.request('topic', { channel: 'ops', topic: 'pager duty' });
    await cli.waitFor(line('* eli set the topic of #ops: pager duty'));
    await eli.request('kick', { channel: 'ops', username: 'dee' });
    await cli.waitFor(line('* eli removed dee from #ops'));
    await cli.waitFor(line('Back to commands.'));
    cli.write('whoelse'); // a command again, not a post to #ops
    await cli.waitFor(line('Online now: eli'));
    assert.deepEqual(
      (await eli.history({ channel: 'ops' })).messages.map((m) => m.body),
      [],
    );
  });
});
