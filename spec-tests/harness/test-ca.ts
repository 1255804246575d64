/**
 * A certificate authority made at test time with the openssl CLI, and server certificates it
 * issues (names as DNS SANs, 127.0.0.1 and ::1 as IP SANs), so federation tests run real,
 * verified TLS on loopback without any certificate checked into the repository.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPENSSL = process.env.OPENSSL ?? '/usr/bin/openssl';

export interface IssuedCert {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
}

export interface TestCa {
  dir: string;
  caPath: string;
  caPem: string;
  /** A certificate for `names` (DNS names or IP addresses) plus the loopback addresses. */
  issue(...names: string[]): IssuedCert;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

let serial = 0;

export function createTestCa(dir = mkdtempSync(join(tmpdir(), 'comet-ca-'))): TestCa {
  openssl(
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Comet Test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  const caPath = join(dir, 'ca.pem');
  return {
    dir,
    caPath,
    caPem: readFileSync(caPath, 'utf8'),
    issue(...names: string[]): IssuedCert {
      const base = `leaf${++serial}`;
      const sans = new Set<string>(['IP:127.0.0.1', 'IP:::1']);
      for (const n of names) sans.add(/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`);
      writeFileSync(
        join(dir, `${base}.ext`),
        `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${[...sans].join(',')}\n`,
      );
      openssl(
        ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${base}.key`,
          '-out', `${base}.csr`, '-subj', `/CN=${names[0] ?? 'localhost'}`],
        dir,
      );
      openssl(
        ['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', String(1000 + serial),
          '-out', `${base}.crt`, '-days', '2', '-extfile', `${base}.ext`],
        dir,
      );
      const certPath = join(dir, `${base}.crt`);
      const keyPath = join(dir, `${base}.key`);
      return { certPath, keyPath, cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
