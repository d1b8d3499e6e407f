import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { ParleyClient, ParleyRequestError } from '../src/client/parley-client';
import { generatePeerKeys } from '../src/client/private-crypto';
import { ClientAddresses } from '../src/server/client-address';
import { makePki } from './helpers/certificates';
import { nginxOrSkip, startNginx } from './helpers/nginx';
import { passwordOf, startServer, tempDir, type TestServer } from './helpers/server';
import { rmSync } from 'node:fs';

/** A client of `url` that connects from `localAddress` (any of 127.0.0.0/8 is this machine) and sends `headers`. */
function clientOf(
  srv: TestServer,
  url: string,
  socket: { localAddress?: string; extraHeaders?: Record<string, string>; ca?: string } = {},
): ParleyClient {
  const client = new ParleyClient(url, { requestTimeoutMs: 3000, socket: { reconnection: false, ...socket } });
  srv.clients.push(client);
  return client;
}

/** The address the server hands out for this session's peer listener: the one it believes the client has. */
async function seenAs(client: ParleyClient): Promise<string> {
  return (await client.request('peer', { port: 4100, publicKey: generatePeerKeys().publicKey })).host;
}

async function signedIn(client: ParleyClient, username: string): Promise<ParleyClient> {
  await client.connect();
  await client.login(username, passwordOf(username));
  return client;
}

const refusedWith = (code: string) => (err: unknown) => {
  assert.ok(err instanceof ParleyRequestError, String(err));
  assert.equal(err.code, code, err.message);
  return true;
};

describe('the client address behind a reverse proxy (--trust-proxy)', () => {
  test('X-Forwarded-For is believed only from a trusted proxy, and only its nearest untrusted hop', async (t) => {
    const trusting = await startServer({ users: ['alice', 'bob', 'carol', 'dave'], trustProxy: ['127.0.0.1'] });
    t.after(() => trusting.close());
    const direct = await startServer({ users: ['alice'], trustProxy: ['192.0.2.1'] });
    t.after(() => direct.close());

    const via = (srv: TestServer, forwarded: string): ParleyClient =>
      clientOf(srv, srv.url, { extraHeaders: { 'x-forwarded-for': forwarded } });
    assert.equal(await seenAs(await signedIn(via(trusting, '203.0.113.7'), 'alice')), '203.0.113.7');
    // Left of the hop our proxy saw, anyone could have written anything.
    assert.equal(await seenAs(await signedIn(via(trusting, '198.51.100.9, 203.0.113.8'), 'bob')), '203.0.113.8');
    assert.equal(await seenAs(await signedIn(via(trusting, 'not an address'), 'carol')), '127.0.0.1');
    // A client that sends the header itself, straight to a server that trusts someone else, is not believed.
    assert.equal(await seenAs(await signedIn(via(direct, '203.0.113.7'), 'alice')), '127.0.0.1');

    // Private chat's loopback check now sees a client on another machine for what it is.
    const remote = await signedIn(via(trusting, '203.0.113.9'), 'dave');
    await assert.rejects(
      remote.request('peer', { host: '127.0.0.1', port: 4100, publicKey: generatePeerKeys().publicKey }),
      refusedWith('BAD_REQUEST'),
    );
  });

  test('ClientAddresses: IPv4-mapped peers, IPv6 proxies, several trusted hops, a header given twice', () => {
    const addresses = new ClientAddresses(['127.0.0.1', '::1', '10.0.0.2']);
    assert.equal(addresses.resolve('::ffff:127.0.0.1', '203.0.113.7'), '203.0.113.7');
    assert.equal(addresses.resolve('::1', '2001:db8::5'), '2001:db8::5');
    assert.equal(addresses.resolve('127.0.0.1', '203.0.113.7, 10.0.0.2'), '203.0.113.7');
    assert.equal(addresses.resolve('127.0.0.1', ['198.51.100.1', '203.0.113.7']), '203.0.113.7');
    assert.equal(addresses.resolve('127.0.0.1', '10.0.0.2'), '10.0.0.2', 'all trusted: the farthest one');
    assert.equal(addresses.resolve('127.0.0.1', '203.0.113.7, bogus'), '127.0.0.1');
    assert.equal(addresses.resolve('198.51.100.1', '203.0.113.7'), '198.51.100.1');
    assert.throws(() => new ClientAddresses(['proxy.lan']), /IP addresses, not "proxy.lan"/);
  });
});

describe('behind a real nginx (docs/deploy.md), TLS terminated there', () => {
  const dir = tempDir('parley-nginx-pki-');
  const pki = makePki(dir);
  const pair = pki.issue('proxy');
  after(() => rmSync(dir, { recursive: true, force: true }));

  let srv: TestServer;
  before(async () => {
    srv = await startServer({ users: ['alice', 'bob', 'carol'], trustProxy: ['127.0.0.1'], maxConnectionsPerAddress: 2 });
  });
  after(() => srv.close());

  async function proxy(t: TestContext): Promise<string | undefined> {
    const binary = nginxOrSkip(t);
    if (!binary) return undefined;
    const nginx = await startNginx(binary, { upstreams: [srv.port], tls: pair });
    t.after(() => nginx.stop());
    return nginx.url;
  }

  test('two clients on different addresses keep separate lockouts and get their own peer addresses', async (t) => {
    const url = await proxy(t);
    if (!url) return;
    const from2 = clientOf(srv, url, { localAddress: '127.0.0.2', ca: pki.ca });
    const from3 = clientOf(srv, url, { localAddress: '127.0.0.3', ca: pki.ca });
    await from2.connect();
    await from3.connect();
    for (let i = 0; i < 3; i++)
      await assert.rejects(from2.login('alice', 'wrong'), refusedWith(i < 2 ? 'INVALID_CREDENTIALS' : 'LOCKED_OUT'));
    await assert.rejects(from2.login('alice', passwordOf('alice')), refusedWith('LOCKED_OUT'));
    await from3.login('alice', passwordOf('alice')); // another address: not locked out
    assert.equal(await seenAs(from3), '127.0.0.3');

    await from2.login('bob', passwordOf('bob'));
    assert.equal(await seenAs(from2), '127.0.0.2');
  });

  test('the per-address cap counts each client, and a header a client sends through the proxy does not help it', async (t) => {
    const url = await proxy(t);
    if (!url) return;
    // The cap is 2 per address: four connections through one proxy still open, two from each address.
    for (const address of ['127.0.0.4', '127.0.0.4', '127.0.0.5', '127.0.0.5'])
      await clientOf(srv, url, { localAddress: address, ca: pki.ca }).connect();
    await assert.rejects(clientOf(srv, url, { localAddress: '127.0.0.4', ca: pki.ca }).connect(), refusedWith('RATE_LIMITED'));

    const forging = clientOf(srv, url, { localAddress: '127.0.0.6', ca: pki.ca, extraHeaders: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(await seenAs(await signedIn(forging, 'carol')), '127.0.0.6');
  });
});
