import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, describe, test } from 'node:test';
import { ParleyClient, ParleyRequestError } from '../src/client/parley-client';
import { trustedCaOptions } from '../src/extension/core/tls-settings';
import { streamLogger } from '../src/server/log';
import { CliProcess } from './helpers/cli-harness';
import { makePki } from './helpers/certificates';
import { Program } from './helpers/processes';
import { sessionFor } from './helpers/extension-session';
import { eventually, passwordOf, startServer, tempDir, type TestServer } from './helpers/server';

const dir = tempDir('parley-tls-');
const pki = makePki(dir);
const first = pki.issue('first');
const second = pki.issue('second');
after(() => rmSync(dir, { recursive: true, force: true }));

/** A client of the test server at its https:// address, given the CA unless told otherwise. */
function client(srv: TestServer, trustingCa = true): ParleyClient {
  const c = new ParleyClient(srv.server.urls()[0]!, {
    requestTimeoutMs: 3000,
    socket: { reconnection: false, ...(trustingCa && { ca: pki.ca }) },
  });
  srv.clients.push(c);
  return c;
}

/** The serial number of the certificate the server presents to a new connection. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: pki.ca }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.once('error', reject);
  });
}

/** A logger that keeps every line, for the warnings a test expects. */
function recording(): { lines: string[]; log: ReturnType<typeof streamLogger> } {
  const lines: string[] = [];
  return { lines, log: streamLogger((text) => lines.push(text)) };
}

describe('TLS built in', () => {
  test('serves wss: a client that has the CA signs in at the https:// address', async (t) => {
    const srv = await startServer({ users: ['alice'], tls: { cert: first.cert, key: first.key } });
    t.after(() => srv.close());
    assert.deepEqual(srv.server.urls(), [`https://127.0.0.1:${srv.port}`]);
    const alice = client(srv);
    await alice.connect();
    assert.deepEqual((await alice.login('alice', passwordOf('alice'))).online, []);
  });

  test('a connection that does not complete its TLS handshake in time is cut', async (t) => {
    const srv = await startServer({
      users: ['alice'],
      tls: { cert: first.cert, key: first.key },
      timings: { requestHeadersTimeoutMs: 500 },
    });
    const silent = netConnect({ host: '127.0.0.1', port: srv.port });
    t.after(() => {
      silent.destroy();
      return srv.close();
    });
    let closed = false;
    silent.on('close', () => (closed = true)).on('error', () => {});
    await eventually(() => closed, 3000, 'the server to cut a connection that sends nothing');
    const alice = client(srv);
    await alice.connect();
    await alice.login('alice', passwordOf('alice'));
  });

  test('a client without the CA is refused with a clear message that says how to trust it', async (t) => {
    const srv = await startServer({ users: ['alice'], tls: { cert: first.cert, key: first.key } });
    t.after(() => srv.close());
    const err = await client(srv, false)
      .connect()
      .then(
        () => assert.fail('connected without trusting the certificate'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof ParleyRequestError);
    assert.equal(err.code, 'UNTRUSTED_CERTIFICATE');
    assert.match(err.message, /presented a certificate this client does not trust \(.+\)\. /);
    assert.match(err.message, /--ca FILE/);
  });

  test('the terminal client trusts the server with --ca, and HOST PORT asks for TLS with --tls', async (t) => {
    const srv = await startServer({ users: ['alice'], tls: { cert: first.cert, key: first.key } });
    t.after(() => srv.close());
    const cli = new CliProcess(['--ca', pki.caFile, '127.0.0.1', String(srv.port)]);
    t.after(() => cli.kill());
    cli.write('alice', passwordOf('alice'));
    await cli.waitFor(/Welcome to Parley, alice!/);
    cli.write('logout');
    assert.equal(await cli.exitCode(), 0);

    const untrusted = new CliProcess(['--tls', '127.0.0.1', String(srv.port)]);
    t.after(() => untrusted.kill());
    assert.equal(await untrusted.exitCode(), 1);
    assert.match(untrusted.stdout, /does not trust .*--ca FILE/);

    const unreadable = new CliProcess(['--ca', `${dir}/no-such-ca.pem`, '127.0.0.1', String(srv.port)]);
    t.after(() => unreadable.kill());
    assert.equal(await unreadable.exitCode(), 2);
    assert.match(unreadable.stderr, /cannot read the CA certificate .*no-such-ca\.pem: ENOENT/);
  });

  test('a renewed certificate is served to the next connection; a bad pair keeps the one in use and is logged', async (t) => {
    const files = tempDir('parley-tls-files-');
    t.after(() => rmSync(files, { recursive: true, force: true }));
    const cert = `${files}/server.pem`;
    const key = `${files}/server.key`;
    copyFileSync(first.cert, cert);
    copyFileSync(first.key, key);
    const { lines, log } = recording();
    const srv = await startServer({ users: ['alice'], log, tls: { cert, key, pollMs: 20 } });
    t.after(() => srv.close());
    assert.equal(await servedSerial(srv.port), first.serial);

    copyFileSync(second.cert, cert);
    copyFileSync(second.key, key);
    await eventually(() => lines.some((l) => l.includes('TLS certificate reloaded')), 10_000, 'the reload');
    assert.equal(await servedSerial(srv.port), second.serial);
    const alice = client(srv);
    await alice.connect(); // established sessions and new ones alike go on

    copyFileSync(first.key, key); // the key no longer matches the certificate
    await eventually(() => lines.some((l) => l.includes('TLS certificate not reloaded')), 10_000, 'the refusal');
    assert.match(
      lines.find((l) => l.includes('not reloaded'))!,
      /key values mismatch/,
    );
    assert.equal(await servedSerial(srv.port), second.serial);
  });

  test('listening beyond loopback without TLS warns at start that passwords cross the network in clear', async (t) => {
    const clear = recording();
    const open = await startServer({ host: '0.0.0.0', log: clear.log });
    t.after(() => open.close());
    assert.ok(clear.lines.some((l) => / warn listening beyond this machine without TLS: passwords .* in clear/.test(l)));

    for (const options of [{ host: '127.0.0.1' }, { host: '0.0.0.0', tls: { cert: first.cert, key: first.key } }]) {
      const quiet = recording();
      const srv = await startServer({ ...options, log: quiet.log });
      t.after(() => srv.close());
      assert.ok(quiet.lines.some((l) => l.includes('listening')));
      assert.ok(!quiet.lines.some((l) => l.includes('in clear')), JSON.stringify(options));
    }
  });
});

describe('the extension trusts the CA of the user settings only', () => {
  test('parley.tls.caFile from the user settings signs in over wss; from a workspace it is ignored, and said so', async (t) => {
    const srv = await startServer({ users: ['alice'], tls: { cert: first.cert, key: first.key } });
    t.after(() => srv.close());
    const url = srv.server.urls()[0]!;
    const read = (path: string): string => readFileSync(path, 'utf8');

    const user = trustedCaOptions({ globalValue: pki.caFile }, read);
    assert.deepEqual(user.problems, []);
    const trusting = sessionFor(srv, { client: () => ({ ...user.options, requestTimeoutMs: 3000 }) });
    t.after(() => trusting.dispose());
    await trusting.connect(url, 'alice', passwordOf('alice'));
    assert.equal(trusting.signedIn, true);

    const planted = trustedCaOptions({ workspaceValue: pki.caFile, workspaceFolderValue: pki.caFile }, read);
    assert.match(planted.problems.join(), /ignored in workspace settings/);
    const refusing = sessionFor(srv, { client: () => ({ ...planted.options, requestTimeoutMs: 3000, socket: { reconnection: false } }) });
    t.after(() => refusing.dispose());
    await assert.rejects(refusing.connect(url, 'alice', passwordOf('alice')), (err: unknown) => {
      assert.equal((err as ParleyRequestError).code, 'UNTRUSTED_CERTIFICATE');
      return true;
    });

    const missing = trustedCaOptions({ globalValue: `${dir}/no-such-ca.pem` }, read);
    assert.deepEqual(missing.options, {});
    assert.match(missing.problems.join(), /no-such-ca\.pem\) cannot be read: ENOENT/);
  });
});

describe('parley-server with TLS flags', () => {
  test('a certificate that does not load, or a bad --trust-proxy, stops the start with a clear error', async (t) => {
    const data = tempDir();
    t.after(() => rmSync(data, { recursive: true, force: true }));
    const start = async (...args: string[]): Promise<Program> => {
      const program = new Program('src/server/main.ts', ['0', '--data', data, ...args]);
      t.after(() => program.kill());
      assert.equal(await program.exitCode(), args.includes('--tls-key') || args.includes('--trust-proxy') ? 1 : 2);
      return program;
    };
    assert.match((await start('--tls-cert', first.cert)).stderr, /--tls-cert and --tls-key go together/);
    assert.match(
      (await start('--tls-cert', `${dir}/none.pem`, '--tls-key', first.key)).stderr,
      /TLS certificate .*none\.pem and key .* do not load: ENOENT/,
    );
    assert.match((await start('--tls-cert', second.cert, '--tls-key', first.key)).stderr, /do not load: .*key values mismatch/);
    assert.match((await start('--trust-proxy', '127.0.0.1,proxy.lan')).stderr, /--trust-proxy takes IP addresses, not "proxy\.lan"/);
  });
});
