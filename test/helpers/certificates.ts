import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A private CA and the files of a certificate it signed, made by the system's openssl. */
export interface TestPki {
  /** The CA's certificate (PEM file): what a client is given with --ca. */
  caFile: string;
  ca: string;
  /** Makes a key and a certificate for 127.0.0.1 and localhost signed by the CA; `name` tells the pairs apart. */
  issue(name: string): { cert: string; key: string; serial: string };
}

function openssl(dir: string, ...args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Makes a CA in `dir` (a temporary directory of the test's). */
export function makePki(dir: string): TestPki {
  const caFile = join(dir, 'ca.pem');
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    caFile,
    '-days',
    '2',
    '-subj',
    '/CN=Parley test CA',
  );
  let serial = 0x1000; // four hex digits, as getPeerCertificate() writes them
  return {
    caFile,
    ca: readFileSync(caFile, 'utf8'),
    issue: (name) => {
      const key = join(dir, `${name}.key`);
      const cert = join(dir, `${name}.pem`);
      const extensions = join(dir, `${name}.ext`);
      writeFileSync(extensions, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
      openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      const hex = (serial++).toString(16).toUpperCase();
      openssl(
        dir,
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        caFile,
        '-CAkey',
        'ca.key',
        '-set_serial',
        `0x${hex}`,
        '-days',
        '2',
        '-extfile',
        extensions,
        '-out',
        cert,
      );
      return { cert, key, serial: hex };
    },
  };
}
