import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, test } from 'node:test';
import { hostsFor } from '../src/server/server';
import { startServer } from './helpers/server';

const interfaces = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
const hasIPv6 = interfaces.some((i) => i.family === 'IPv6');

/** Each URL answers as the message center does to a plain HTTP request (every address printed must work). */
async function assertAllAnswer(urls: string[]): Promise<void> {
  for (const url of urls) {
    const response = await fetch(url);
    assert.equal(response.status, 404, url);
    assert.match(await response.text(), /^Parley message center/, url);
  }
}

describe('the addresses the server prints', () => {
  test('bound to 127.0.0.1: that address only', async (t) => {
    const srv = await startServer();
    t.after(() => srv.close());
    assert.deepEqual(srv.server.urls(), [`http://127.0.0.1:${srv.port}`]);
  });

  test('bound to 0.0.0.0: every IPv4 address of this machine, each of which reaches the server', async (t) => {
    const srv = await startServer({ host: '0.0.0.0' });
    t.after(() => srv.close());
    const expected = interfaces.filter((i) => i.family === 'IPv4').map((i) => `http://${i.address}:${srv.port}`);
    assert.ok(expected.length > 0);
    assert.deepEqual(srv.server.urls(), expected);
    await assertAllAnswer(srv.server.urls());
  });

  test(
    'bound to ::, every address but link-local IPv6 ones (their URLs would need a zone), each of which reaches the server',
    { skip: !hasIPv6 && 'no IPv6 here' },
    async (t) => {
      const srv = await startServer({ host: '::' });
      t.after(() => srv.close());
      const usable = interfaces.filter((i) => !(i.family === 'IPv6' && i.scopeid !== 0));
      const expected = usable.map((i) => (i.family === 'IPv6' ? `http://[${i.address}]:${srv.port}` : `http://${i.address}:${srv.port}`));
      assert.deepEqual(srv.server.urls(), expected);
      await assertAllAnswer(srv.server.urls());
    },
  );

  test('link-local IPv6 addresses are left out on any machine; others of every family are kept', () => {
    const v4 = { family: 'IPv4', netmask: '255.255.255.0', mac: '02:00:00:00:00:01', internal: false } as const;
    const v6 = { family: 'IPv6', netmask: 'ffff:ffff:ffff:ffff::', mac: '02:00:00:00:00:01', internal: false, scopeid: 0 } as const;
    const list = {
      eth0: [
        { ...v4, address: '192.168.1.20', cidr: '192.168.1.20/24' },
        { ...v6, address: '2001:db8::20', cidr: '2001:db8::20/64' },
        { ...v6, address: 'fe80::1:2ff:fe00:1', cidr: 'fe80::1:2ff:fe00:1/64', scopeid: 2 },
        { ...v6, address: 'FEBF::1', cidr: 'febf::1/64', scopeid: 2 },
      ],
    };
    assert.deepEqual(hostsFor('::', list), ['192.168.1.20', '2001:db8::20']);
    assert.deepEqual(hostsFor('0.0.0.0', list), ['192.168.1.20']);
    assert.deepEqual(hostsFor('10.0.0.5', list), ['10.0.0.5']);
  });
});
