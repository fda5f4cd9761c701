import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './models.js';
import { findTool } from './tools.js';

const run = promisify(execFile);

export interface TestCerts {
  dir: string;
  /** The CA's certificate, what a verifying client trusts. */
  caFile: string;
  keyFile: string;
  certFile: string;
  /** A second key, which does not belong to the certificate. */
  otherKeyFile: string;
}

/**
 * A private CA and a server certificate it signed for 127.0.0.1 and localhost, made with Debian's
 * openssl (P-256 keys, quick to make), valid for two days.
 */
export async function makeCerts(): Promise<TestCerts> {
  const openssl = findTool('openssl', 'apt-get install openssl');
  const dir = await tempDir('ms-tls-');
  const p = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(openssl, ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=model-server test CA']);
  await run(openssl, ['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=localhost']);
  await writeFile(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await run(openssl, ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf')]);
  await run(openssl, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', p('other.key')]);
  return { dir, caFile: p('ca.pem'), keyFile: p('server.key'), certFile: p('server.pem'), otherKeyFile: p('other.key') };
}
