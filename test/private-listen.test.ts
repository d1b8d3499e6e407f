import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { listenAddress } from '../src/client/peer-address';
import type { PrivateChannelsOptions } from '../src/client/private-channels';
import { privateChatOptions } from '../src/extension/core/private-settings';
import { signedInSession } from './helpers/extension-session';
import { eventually, startServer } from './helpers/server';
import { closePeers, nextPrivate, peer, ticketFor } from './private-helpers';

describe('private chat: where the peer listener listens, and what it registers', () => {
  test('by default: loopback for a loopback server, every interface (the server then tells the address) for any other', () => {
    const cases: [string, { bind: string; advertise: string | undefined }][] = [
      ['http://127.0.0.1:4000', { bind: '127.0.0.1', advertise: '127.0.0.1' }],
      ['http://127.8.9.10:4000', { bind: '127.0.0.1', advertise: '127.0.0.1' }],
      ['http://localhost:4000', { bind: '127.0.0.1', advertise: '127.0.0.1' }],
      ['http://[::1]:4000', { bind: '::1', advertise: '::1' }],
      ['http://192.0.2.10:4000', { bind: '0.0.0.0', advertise: undefined }],
      ['http://chat.example.org:4000', { bind: '0.0.0.0', advertise: undefined }],
      ['http://[2001:db8::1]:4000', { bind: '::', advertise: undefined }],
    ];
    for (const [url, expected] of cases) assert.deepEqual(listenAddress(url), expected, url);
  });

  test('an explicit interface is bound and, when it is one address, registered; an advertised address wins', () => {
    assert.deepEqual(listenAddress('http://192.0.2.10:4000', '192.0.2.55'), { bind: '192.0.2.55', advertise: '192.0.2.55' });
    assert.deepEqual(listenAddress('http://192.0.2.10:4000', 'fd00::2'), { bind: 'fd00::2', advertise: 'fd00::2' });
    assert.deepEqual(listenAddress('http://127.0.0.1:4000', '0.0.0.0'), { bind: '0.0.0.0', advertise: undefined });
    assert.deepEqual(listenAddress('http://127.0.0.1:4000', '::'), { bind: '::', advertise: undefined });
    assert.deepEqual(listenAddress('http://192.0.2.10:4000', '0.0.0.0', '203.0.113.7'), { bind: '0.0.0.0', advertise: '203.0.113.7' });
    assert.deepEqual(listenAddress('http://127.0.0.1:4000', undefined, '192.0.2.9'), { bind: '127.0.0.1', advertise: '192.0.2.9' });
  });

  test('the extension settings: IP addresses become listener options; anything else is left out and explained', () => {
    assert.deepEqual(privateChatOptions({}), { options: {}, problems: [] });
    assert.deepEqual(privateChatOptions({ listenHost: '', advertiseHost: '  ' }), { options: {}, problems: [] });
    assert.deepEqual(privateChatOptions({ listenHost: ' 0.0.0.0 ', advertiseHost: '203.0.113.7' }), {
      options: { host: '0.0.0.0', advertise: { host: '203.0.113.7' } },
      problems: [],
    });
    const { options, problems } = privateChatOptions({ listenHost: 'my-laptop.local', advertiseHost: '::1' });
    assert.deepEqual(options, { advertise: { host: '::1' } });
    assert.deepEqual(problems, [
      'The setting parley.privateChat.listenHost ("my-laptop.local") is not an IP address of this machine; the default is used instead.',
    ]);
  });

  test('an extension session listens where its settings say, asked at each sign-in', async () => {
    const t = await startServer({ users: ['alice', 'carol'] });
    const asked: PrivateChannelsOptions[] = [];
    const settings = (): PrivateChannelsOptions => {
      const { options } = privateChatOptions({ listenHost: '::1' });
      asked.push(options);
      return { ...options, clock: t.clock.read };
    };
    const alice = await signedInSession(t, 'alice', { private: settings });
    const carol = await peer(t, 'carol');
    try {
      assert.deepEqual(asked, [{ host: '::1' }]);
      const { reply } = await ticketFor(carol, 'alice');
      assert.deepEqual([reply.host, reply.port > 0], ['::1', true], 'registered on the IPv6 loopback');
      const opened = nextPrivate(carol.channels, 'opened');
      await carol.channels.start('alice');
      await opened;
      await eventually(() => alice.privateStateOf('carol') === 'direct', 3000, 'open on alice’s side too');
      await alice.signOut(500);
      await alice.connect(t.url, 'alice', 'alice-pw');
      assert.equal(asked.length, 2, 'asked again at the next sign-in');
    } finally {
      await alice.signOut(500);
      await closePeers(carol);
      await t.close();
    }
  });
});
