import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCommand, type CommandPort, type Outcome } from '../src/client/command-runner';
import { COMMANDS, COMMAND_HELP, type CommandName } from '../src/protocol';
import { namesChannels, parsed, sample, type ChannelCommandName } from './helpers/commands';
import { eventually, startServer, type TestServer } from './helpers/server';
import { closePeers, peer, type Peer } from './private-helpers';

/**
 * Every form of every command in the table, run once through the runner with a real client and private chats
 * (alice's; bob is online, carol is not), in table order: a command without a handler fails here, and each
 * outcome's sentence must agree with what the server answered. The channel commands (protocol 3) and forms that
 * name a channel are run by test/command-runner-channels.test.ts.
 */
type Checks = { [N in Exclude<CommandName, ChannelCommandName>]: (outcome: Extract<Outcome, { name: N }>) => void | Promise<void> };

describe('the command runner', () => {
  let t: TestServer;
  let alice: Peer;
  let bob: Peer;
  let port: CommandPort;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob', 'carol'] });
    alice = await peer(t, 'alice');
    bob = await peer(t, 'bob');
    port = { requests: alice.client, private: alice.channels };
  });
  after(async () => {
    await closePeers(alice, bob);
    await t.close();
  });

  const checks: Checks = {
    whoelse: (o) => {
      assert.deepEqual(o.users, ['bob']);
      assert.equal(o.sentence, 'Online now: bob');
    },
    wholast: (o) => {
      assert.deepEqual(o.users, ['bob']);
      assert.equal(o.sentence, 'Online in the last 5 minutes: bob');
    },
    broadcast: (o) => {
      // To everyone online: bob; to those named: carol too, who gets it on signing in.
      const delivered = o.to ? 2 : 1;
      assert.equal(o.reply.delivered, delivered);
      assert.equal(o.sentence, `Broadcast sent to ${delivered} user${delivered === 1 ? '' : 's'}.`);
    },
    message: (o) => {
      assert.equal(o.reply.online, true);
      assert.equal(o.sentence, 'Sent to bob.');
    },
    startprivate: (o) => {
      assert.equal(o.reply.already, false);
      assert.equal(alice.channels.stateOf('bob'), 'open');
      assert.equal(o.sentence, 'Private chat with bob is open (direct, encrypted).');
    },
    private: (o) => {
      assert.equal((o.sent as { body: string }).body, 'hello there');
      assert.equal(o.sentence, 'Sent privately to bob.');
    },
    stopprivate: async (o) => {
      await eventually(() => alice.channels.stateOf('bob') === 'closed', 3000, 'the chat to close');
      assert.equal(o.sentence, 'Stopping the private chat with bob.');
    },
    block: async (o) => {
      assert.deepEqual((await alice.client.blocklist()).users, ['bob']);
      assert.match(o.sentence, /^Blocked bob: /);
    },
    unblock: async (o) => {
      assert.deepEqual((await alice.client.blocklist()).users, []);
      assert.equal(o.sentence, 'Unblocked bob.');
    },
    blocklist: (o) => {
      assert.deepEqual(o.users, []);
      assert.equal(o.sentence, 'You have not blocked anyone.');
    },
    logout: (o) => {
      assert.equal(alice.client.state, 'signed-in', 'the client signs out its own way');
      assert.equal(o.sentence, 'You have signed out.');
    },
    help: (o) => {
      for (const { usage } of COMMAND_HELP) assert.ok(o.sentence.includes(usage), `help shows ${usage}`);
    },
    history: async (o) => {
      // What alice sent above, newest last: all of it, or only what went to bob.
      const all = (await alice.client.history(o.of && 'with' in o.of ? { with: o.of.with } : {})).messages;
      assert.ok(all.length > 0);
      assert.deepEqual(
        o.messages.map((m) => m.id),
        all.map((m) => m.id),
      );
      const where = o.of ? 'your conversation with bob' : 'your messages';
      assert.equal(o.sentence, `${all.length} message${all.length === 1 ? '' : 's'} of ${where}, back to the first.`);
    },
    query: (o) => {
      assert.equal(alice.channels.stateOf('bob'), o.private ? 'open' : 'closed', 'only the private form opens a chat');
      assert.equal(o.sentence, o.private ? 'Talking to bob over the direct, encrypted chat.' : 'Talking to bob.');
    },
    close: (o) => assert.equal(o.sentence, 'Back to commands.'),
  };

  for (const spec of COMMANDS) {
    for (const form of spec.forms) {
      if (namesChannels(spec, form)) continue;
      const line = sample(spec.name, form.tokens);
      test(line, async () => {
        // The test clock stands still: a private chat opened after the block above needs a ticket issued after it.
        if (spec.name === 'query') t.clock.advance(1000);
        const outcome = await runCommand(parsed(line), port);
        assert.equal(outcome.name, spec.name);
        assert.ok(outcome.sentence.trim(), 'a sentence to show');
        await (checks[spec.name as keyof Checks] as (o: Outcome) => void | Promise<void>)(outcome);
      });
    }
  }
});
