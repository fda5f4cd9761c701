import { readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig, loadTlsMaterial } from '@model-server/gateway';
import { bannerAddress, cliFolder, type CliFolder } from './helpers/cli-run.js';
import { buildModel, tempDir } from './helpers/models.js';
import { makeCerts, type TestCerts } from './helpers/tls-certs.js';

interface Reply {
  status: number;
  body: string;
}

/** An https request from a client that verifies the server's certificate against `ca` (and its name). */
function httpsCall(url: string, ca: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers ?? {}, ca }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

let certs: TestCerts;
let ca: string;
let store: string;
let stateDir: string;
let folder: CliFolder;

async function writeConfig(dir: string, lines: string[]): Promise<string> {
  const file = join(dir, 'config.properties');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

beforeAll(async () => {
  certs = await makeCerts();
  ca = await readFile(certs.caFile, 'utf8');
  store = await tempDir();
  stateDir = await tempDir('ms-state-');
  await buildModel(store, { name: 'probe', config: 'minWorkers: 1\n' });
  folder = await cliFolder(stateDir);
});
afterAll(async () => {
  await folder?.run('stop');
});

describe('TLS (inference_address=https://..., private_key_file, certificate_file)', () => {
  it('serves every API over https to a client that verifies the certificate, with token authorization on', async () => {
    const config = await writeConfig(folder.dir, [
      'inference_address=https://127.0.0.1:0',
      'management_address=https://127.0.0.1:0',
      'metrics_address=https://127.0.0.1:0',
      'grpc_inference_port=0',
      'grpc_management_port=0',
      `private_key_file=${certs.keyFile}`,
      `certificate_file=${certs.certFile}`,
    ]);
    // A background start: the CLI itself must reach the https server (/ping) to know it started.
    const started = await folder.run('start', '--ts-config', config, '--model-store', store, '--models', 'probe=probe.mar');
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const inference = bannerAddress(started.stdout, 'inference');
    const management = bannerAddress(started.stdout, 'management');
    const metrics = bannerAddress(started.stdout, 'metrics');
    expect(inference).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(started.stdout).toContain(`token authorization is on: keys in ${join(folder.dir, 'key_file.json')}`);
    const keys = JSON.parse(await readFile(join(folder.dir, 'key_file.json'), 'utf8')) as Record<string, { key: string }>;

    expect(await httpsCall(`${inference}/ping`, ca)).toEqual({ status: 200, body: '{"status":"Healthy"}' });
    const predicted = await httpsCall(`${inference}/predictions/probe`, ca, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys['inference']!.key}` },
      body: '{"op":"echo","value":"over tls"}',
    });
    expect(predicted.status).toBe(200);
    expect(JSON.parse(predicted.body)).toMatchObject({ value: 'over tls' });
    expect((await httpsCall(`${inference}/predictions/probe`, ca, { method: 'POST', body: '{}' })).status).toBe(401);
    const models = await httpsCall(`${management}/models`, ca, { headers: { authorization: `Bearer ${keys['management']!.key}` } });
    expect(JSON.parse(models.body)).toMatchObject({ models: [{ modelName: 'probe' }] });
    expect((await httpsCall(`${metrics}/metrics`, ca)).body).toContain('# TYPE');
    // localhost is in the certificate as well; the name check is the client's, and it passes.
    expect((await httpsCall(inference.replace('127.0.0.1', 'localhost'), ca)).status).toBe(200);

    // A client that does not trust the CA refuses the server; a plain-HTTP client gets no answer.
    await expect(httpsCall(`${inference}/ping`, '')).rejects.toThrow(/self-signed|unable to (verify|get)|certificate/i);
    await expect(
      new Promise((resolve, reject) => {
        const req = httpRequest(`${inference.replace('https:', 'http:')}/ping`, (res) => resolve(res.statusCode));
        req.on('error', reject);
        req.end();
      }),
    ).rejects.toThrow();

    // status and stop reach it over https too.
    const status = await folder.run('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('/ping: Healthy');
    expect(status.stdout).toMatch(/model probe 1\.0 \(default\)/);
    const stopped = await folder.run('stop');
    expect(stopped.stdout).toMatch(/has stopped/);
  });

  it.each([
    ['no private key', (c: TestCerts) => [`certificate_file=${c.certFile}`], /private_key_file.*not set/],
    ['no certificate', (c: TestCerts) => [`private_key_file=${c.keyFile}`], /certificate_file.*not set/],
    ['a missing key file', (c: TestCerts) => ['private_key_file=/nonexistent/key.pem', `certificate_file=${c.certFile}`], /cannot read private_key_file \/nonexistent\/key\.pem/],
    ['an unreadable certificate', (c: TestCerts) => [`private_key_file=${c.keyFile}`, `certificate_file=${c.dir}`], /cannot read certificate_file/],
    ['a key that is not PEM', (c: TestCerts) => [`private_key_file=${c.certFile}`, `certificate_file=${c.certFile}`], /private_key_file.*is not a PEM private key/],
    ['a key of another certificate', (c: TestCerts) => [`private_key_file=${c.otherKeyFile}`, `certificate_file=${c.certFile}`], /does not belong to the key in private_key_file/],
  ])('stops start-up, naming the key, for %s', async (_what, lines, message) => {
    const dir = await tempDir('ms-tls-bad-');
    const config = await writeConfig(dir, ['inference_address=https://127.0.0.1:0', 'management_address=http://127.0.0.1:0', 'metrics_address=http://127.0.0.1:0', 'grpc_inference_port=0', 'grpc_management_port=0', ...lines(certs)]);
    for (const mode of [[], ['--foreground']]) {
      const r = await folder.run('start', ...mode, '--ts-config', config, '--model-store', store);
      expect(r.code, r.stdout).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it("refuses TorchServe's Java keystore with the openssl commands that convert it", async () => {
    const dir = await tempDir('ms-tls-ks-');
    const config = await writeConfig(dir, ['inference_address=https://127.0.0.1:0', 'keystore=/etc/ts/keystore.p12', 'keystore_pass=changeit', 'keystore_type=PKCS12']);
    const r = await folder.run('start', '--foreground', '--ts-config', config);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('keystore is not supported');
    expect(r.stderr).toContain('openssl pkcs12 -in /etc/ts/keystore.p12 -nodes -nocerts -out key.pem');
    expect(r.stderr).toContain('openssl pkcs12 -in /etc/ts/keystore.p12 -nodes -clcerts -nokeys -out cert.pem');
    expect(r.stderr).toContain('private_key_file=key.pem and certificate_file=cert.pem');
  });

  it('warns when a key and certificate are set but no address is https', async () => {
    const dir = await tempDir('ms-tls-plain-');
    const config = await writeConfig(dir, [`private_key_file=${certs.keyFile}`, `certificate_file=${certs.certFile}`]);
    const warnings: string[] = [];
    loadServerConfig({ file: config, warn: (m) => warnings.push(m) });
    expect(warnings).toEqual(['private_key_file / certificate_file are set, but no address is https://: every listener serves plain HTTP']);
  });

  it('loads the key and certificate through one function other servers (gRPC) reuse', () => {
    const tls = loadTlsMaterial({ private_key_file: certs.keyFile, certificate_file: certs.certFile }, 'grpc_inference_address');
    expect(tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
    expect(tls?.key.toString()).toContain('PRIVATE KEY');
    expect(loadTlsMaterial({ private_key_file: '', certificate_file: '' }, 'grpc', false)).toBeUndefined();
    expect(() => loadTlsMaterial({ private_key_file: '', certificate_file: '' }, 'enable_grpc_ssl=true')).toThrow(/enable_grpc_ssl=true needs TLS, but private_key_file is not set/);
  });
});
