import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCommand, type CommandPort, type Outcome } from '../src/client/command-runner';
import { COMMANDS, COMMAND_HELP, type CommandName } from '../src/protocol';
import { parsed, sample } from './helpers/commands';
import { eventually, startServer, type TestServer } from './helpers/server';
import { closePeers, peer, type Peer } from './private-helpers';

/**
 * Every form of every command in the table, run once through the runner with a real client and private chats
 * (alice's; bob is online, carol is not), in table order: a command without a handler fails here, and each
 * outcome's sentence must agree with what the server answered.
 */
type Checks = { [N in CommandName]: (outcome: Extract<Outcome, { name: N }>) => void | Promise<void> };

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
  };

  for (const spec of COMMANDS) {
    for (const form of spec.forms) {
      const line = sample(spec.name, form.tokens);
      test(line, async () => {
        const outcome = await runCommand(parsed(line), port);
        assert.equal(outcome.name, spec.name);
        assert.ok(outcome.sentence.trim(), 'a sentence to show');
        await (checks[spec.name] as (o: Outcome) => void | Promise<void>)(outcome);
      });
    }
  }
});
