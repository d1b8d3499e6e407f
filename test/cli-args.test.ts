import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCliArgs } from '../src/cli/args';

test('--tls and --ca make HOST PORT an https:// address; an http:// URL with them is a usage error', () => {
  assert.deepEqual(parseCliArgs(['--ca', 'team-ca.pem', 'chat.lan', '4000']), {
    kind: 'connect',
    url: 'https://chat.lan:4000',
    ca: 'team-ca.pem',
  });
  assert.deepEqual(parseCliArgs(['chat.lan:4000', '--tls']), { kind: 'connect', url: 'https://chat.lan:4000' });
  assert.deepEqual(parseCliArgs(['--ca=ca.pem', 'https://chat.lan:8443', '--peer-host', '10.0.0.2']), {
    kind: 'connect',
    url: 'https://chat.lan:8443',
    ca: 'ca.pem',
    peerHost: '10.0.0.2',
  });
  assert.deepEqual(parseCliArgs(['chat.lan', '4000']), { kind: 'connect', url: 'http://chat.lan:4000' });
  assert.match((parseCliArgs(['--ca', 'ca.pem', 'http://chat.lan:4000']) as { error: string }).error, /for https:\/\/ servers/);
  assert.match((parseCliArgs(['chat.lan:4000', '--ca']) as { error: string }).error, /--ca needs the file/);
  assert.match((parseCliArgs(['--ca', 'a.pem', '--ca', 'b.pem', 'chat.lan:4000']) as { error: string }).error, /given twice/);
});

test("unknown options, a missing server and a bad port are usage errors in the client's words", () => {
  assert.deepEqual(parseCliArgs(['--verbose', 'chat.lan:4000']), { kind: 'usage', error: 'unknown option --verbose' });
  assert.deepEqual(parseCliArgs(['-h', '--verbose']), { kind: 'help' });
  assert.deepEqual(parseCliArgs(['--tls']), { kind: 'usage', error: 'say which server to connect to' });
  assert.deepEqual(parseCliArgs(['chat.lan', '70000']), { kind: 'usage', error: '"70000" is not a port number (1-65535)' });
  assert.deepEqual(parseCliArgs(['[::1]', '4000', '--peer-host=::1']), { kind: 'connect', url: 'http://[::1]:4000', peerHost: '::1' });
});
