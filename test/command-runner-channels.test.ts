import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { runCommand, type CommandPort, type Outcome } from '../src/client/command-runner';
import { COMMANDS, formUsage, type CommandForm } from '../src/protocol';
import type { ParleyClient } from '../src/client/parley-client';
import { namesChannels, parsed } from './helpers/commands';
import { startServer, type TestServer } from './helpers/server';

/**
 * The channel commands (protocol 3) and the forms that name a channel, each run through the runner with a real client
 * (alice's; bob is online) in an order that makes each one succeed; each outcome must agree with what the server keeps.
 */
describe('the command runner: channels', () => {
  let t: TestServer;
  let alice: ParleyClient;
  let bob: ParleyClient;
  let port: CommandPort;
  before(async () => {
    t = await startServer({ users: ['alice', 'bob'] });
    alice = await t.signIn('alice');
    bob = await t.signIn('bob');
    const unused = async (): Promise<never> => assert.fail('no private chat here');
    port = { requests: alice, private: { start: unused, send: () => assert.fail('no private chat here'), stop: () => {} } };
  });
  after(() => t.close());

  const memberOf = async (client: ParleyClient, channel: string): Promise<boolean> =>
    (await client.request('channels', {})).channels.some((c) => c.name === channel && c.member);

  const runs: { line: string; check(outcome: Outcome): void | Promise<void> }[] = [
    {
      line: 'create #dev',
      check: async (o) => {
        assert.ok(o.name === 'create' && o.channel.name === 'dev' && !o.channel.private && o.channel.member);
        assert.equal(o.sentence, 'Created #dev, public: anyone may join.');
      },
    },
    {
      line: 'create #ops private',
      check: (o) => {
        assert.ok(o.name === 'create' && o.channel.private);
        assert.equal(o.sentence, 'Created #ops, private: members invite members.');
      },
    },
    {
      line: 'join #dev',
      check: (o) => assert.equal(o.sentence, 'Joined #dev (public, 1 member).'),
    },
    {
      line: 'topic #dev build talk',
      check: async (o) => {
        assert.equal(o.sentence, 'Topic of #dev: build talk');
        assert.equal((await bob.request('channels', {})).channels.find((c) => c.name === 'dev')?.topic, 'build talk');
      },
    },
    {
      line: 'invite #dev bob',
      check: async (o) => {
        assert.equal(o.sentence, 'Added bob to #dev.');
        assert.ok(await memberOf(bob, 'dev'));
      },
    },
    {
      line: 'members #dev',
      check: (o) => {
        assert.ok(o.name === 'members');
        assert.deepEqual([...o.members].sort(), ['alice', 'bob']);
        assert.match(o.sentence, /^Members of #dev: (alice, bob|bob, alice)$/);
      },
    },
    {
      line: 'post #dev hello there',
      check: async (o) => {
        assert.ok(o.name === 'post' && o.reply.seq === 1);
        assert.equal(o.sentence, 'Sent to #dev.');
        const { messages } = await bob.history({ channel: 'dev' });
        assert.deepEqual(
          messages.map((m) => [m.from, m.body, m.seq]),
          [['alice', 'hello there', 1]],
        );
      },
    },
    {
      line: 'history #dev',
      check: (o) => {
        assert.ok(o.name === 'history');
        assert.deepEqual(
          o.messages.map((m) => m.body),
          ['hello there'],
        );
        assert.equal(o.sentence, '1 message of #dev, back to the first.');
      },
    },
    {
      line: 'channels',
      check: (o) => {
        assert.ok(o.name === 'channels');
        assert.deepEqual(o.channels.map((c) => c.name).sort(), ['dev', 'general', 'ops']);
        assert.match(o.sentence, /^Channels \(\* you are a member\):$/m);
        assert.match(o.sentence, /^ {2}\* #dev \(public, 2 members\): build talk$/m);
        assert.match(o.sentence, /^ {2}\* #ops \(private, 1 member\)$/m);
      },
    },
    {
      line: 'kick #dev bob',
      check: async (o) => {
        assert.equal(o.sentence, 'Removed bob from #dev.');
        assert.equal(await memberOf(bob, 'dev'), false);
      },
    },
    {
      line: 'rename #dev #devs',
      check: async (o) => {
        assert.equal(o.sentence, 'Renamed #dev to #devs.');
        assert.ok(await memberOf(alice, 'devs'));
      },
    },
    {
      line: 'leave #devs',
      check: async (o) => {
        assert.equal(o.sentence, 'Left #devs.');
        assert.equal(await memberOf(alice, 'devs'), false);
      },
    },
    {
      line: 'delete #devs',
      check: async (o) => {
        assert.equal(o.sentence, 'Deleted #devs and its history.');
        assert.ok(!(await alice.request('channels', {})).channels.some((c) => c.name === 'devs'));
      },
    },
  ];

  test('every channel form is run here', () => {
    const run = new Set(runs.map((r) => formUsage(r.line.split(' ')[0]!, findForm(r.line))));
    const forms = COMMANDS.flatMap((spec) => spec.forms.filter((f) => namesChannels(spec, f)).map((f) => formUsage(spec.name, f)));
    assert.deepEqual(
      forms.filter((f) => !run.has(f)),
      [],
    );
  });

  for (const { line, check } of runs) {
    test(line, async () => {
      const outcome = await runCommand(parsed(line), port);
      assert.equal(outcome.name, parsed(line).name);
      await check(outcome);
    });
  }
});

/** The form of the table a line was typed in: the one whose keywords fit and whose words are all taken (text takes the rest). */
function findForm(line: string): CommandForm {
  const [name, ...words] = line.split(' ');
  const fits = (form: CommandForm): boolean => {
    const text = form.tokens.findIndex((t) => 'arg' in t && t.arg === 'text');
    const count = text === -1 ? words.length : text + 1;
    if (text === -1 ? form.tokens.length !== words.length : words.length < count) return false;
    return form.tokens.every((t, i) => !('word' in t) || t.word === words[i]);
  };
  return COMMANDS.find((c) => c.name === name)!.forms.find(fits)!;
}
