import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BIN, bannerAddress, cliFolder, type CliFolder } from './helpers/cli-run.js';
import { buildModel, tempDir } from './helpers/models.js';
import { postJson } from './helpers/server.js';

let store: string;
let stateDir: string;
const folders: CliFolder[] = [];

/** A folder whose config.properties puts every listener on a free port. */
async function folder(extra: string[] = []): Promise<CliFolder> {
  const f = await cliFolder(stateDir);
  await writeFile(join(f.dir, 'config.properties'), ['inference_address=http://127.0.0.1:0', 'management_address=http://127.0.0.1:0', 'metrics_address=http://127.0.0.1:0', 'grpc_inference_port=0', 'grpc_management_port=0', ...extra, ''].join('\n'));
  folders.push(f);
  return f;
}

beforeAll(async () => {
  store = await tempDir();
  stateDir = await tempDir('ms-state-');
  await buildModel(store, { name: 'alpha', config: 'minWorkers: 1\n' });
  await buildModel(store, { name: 'beta', config: 'minWorkers: 2\nbatchSize: 3\n' });
});
afterAll(async () => {
  for (const f of folders) await f.run('stop');
});

describe('--help, -v and flags TorchServe users type', () => {
  it('prints help for each command with a line per flag and the environment it reads', async () => {
    const f = await folder();
    const start = await f.run('start', '--help');
    expect(start.code).toBe(0);
    for (const flag of ['--model-store DIR', '--models SPEC...', '--ts-config FILE', '--foreground', '--disable-token-auth, --dt', '--enable-model-api', '--ncs, --no-config-snapshots', '--start-timeout SECONDS']) {
      expect(start.stdout.split('\n').filter((l) => l.trimStart().startsWith(flag)), flag).toHaveLength(1);
    }
    for (const env of ['TS_CONFIG_FILE', 'LOG_LOCATION', 'LOG_LEVEL', 'LOG_FORMAT', 'MODEL_SERVER_STATE_DIR', 'TS_<KEY>']) expect(start.stdout).toContain(`  ${env}`);
    expect(start.stdout).toContain('refused with a reason: --log-config, --cpp-log-config, --plugins-path');
    // TorchServe's spelling, and help as the first word.
    expect((await f.run('--start', '--help')).stdout).toBe(start.stdout);
    expect((await f.run('help', 'start')).stdout).toBe(start.stdout);
    for (const command of ['stop', 'status']) {
      const r = await f.run(command, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`usage: model-server ${command}`);
      expect(r.stdout).toMatch(/--ts-config FILE\s+the server started with this config file/);
      expect(r.stdout).toMatch(/--pid PID\s+the server with this process id/);
      expect(r.stdout).toContain('MODEL_SERVER_STATE_DIR');
    }
    const top = await f.run('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('model-server --start | --stop | -v | --help');
  });

  it('answers -v and --version', async () => {
    const f = await folder();
    for (const flag of ['-v', '--version']) expect((await f.run(flag)).stdout).toBe('model-server 0.1.0\n');
  });

  it('refuses the TorchServe flags it does not have, saying why, and unknown flags with the nearest one', async () => {
    const f = await folder();
    for (const [args, message] of [
      [['--log-config', 'log4j2.xml'], '--log-config is not supported: logging is configured with LOG_LEVEL and LOG_FORMAT'],
      [['--cpp-log-config', 'x'], '--cpp-log-config is not supported'],
      [['--plugins-path', 'plugins'], '--plugins-path is not supported: Java plugins do not run here'],
      [['--ppath', 'plugins'], '--ppath is not supported: Java plugins do not run here'],
      [['--workflow-stor', 'wf'], 'unknown flag --workflow-stor for start (did you mean "--workflow-store"?)'],
      [['--model-stor', 'x'], 'unknown flag --model-stor for start (did you mean "--model-store"?)'],
      [['--stop'], '--stop conflicts with start: give one command'],
    ] as const) {
      const r = await f.run('--start', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect((await f.run('launch')).stderr).toContain('unknown command "launch"');
  });
});

describe('servers side by side, one per folder', () => {
  it("starts with TorchServe's forms (--start, --models a b, --dt, --no-config-snapshots), and stop/status act on this folder's server only", async () => {
    const a = await folder();
    const b = await folder();
    const startedA = await a.run('--start', '--ts-config', 'config.properties', '--model-store', store, '--models', 'alpha=alpha.mar', 'beta=beta.mar', '--dt', '--no-config-snapshots');
    expect(startedA.stderr).toBe('');
    expect(startedA.code).toBe(0);
    expect(startedA.stdout).toContain('token authorization is off');
    const startedB = await b.run('start', '--model-store', store, '--models=alpha=alpha.mar', '--dt', '--ncs');
    expect(startedB.code).toBe(0);
    const inferenceA = bannerAddress(startedA.stdout, 'inference');
    const inferenceB = bannerAddress(startedB.stdout, 'inference');
    expect(inferenceA).not.toBe(inferenceB);
    // No snapshots were written by either.
    expect(await readdir(join(a.dir, 'logs'))).not.toContain('config');

    // Only one server per folder.
    const again = await a.run('start', '--model-store', store, '--dt', '--ncs');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already running in this folder');

    const statusA = await a.run('status');
    expect(statusA.code).toBe(0);
    expect(statusA.stdout).toContain(`folder:     ${a.dir}`);
    expect(statusA.stdout).toMatch(/model alpha 1\.0 \(default\): 1 worker\(s\) \(min 1, max 1\), queue 0\/100, batchSize 1/);
    expect(statusA.stdout).toMatch(/model beta 1\.0 \(default\): 2 worker\(s\) \(min 2, max 2\), queue 0\/100, batchSize 3/);
    const workerLines = statusA.stdout.split('\n').filter((l) => l.startsWith('    worker'));
    expect(workerLines).toHaveLength(3);
    for (const line of workerLines) expect(line).toMatch(/^ {4}worker \d+ {2}READY {5}pid \d+ {2}\d+\.\d MB$/);
    const statusB = await b.run('status');
    expect(statusB.stdout).toContain(`folder:     ${b.dir}`);
    expect(statusB.stdout).not.toContain('model beta');
    const all = await a.run('status', '--all');
    expect(all.stdout).toContain(a.dir);
    expect(all.stdout).toContain(b.dir);

    // stop in A leaves B serving; B is stopped from A by naming it.
    expect((await a.run('stop')).stdout).toContain(`has stopped (pid`);
    await expect(fetch(`${inferenceA}/ping`)).rejects.toThrow();
    expect((await postJson(`${inferenceB}/predictions/alpha`, { op: 'echo', value: 1 })).status).toBe(200);
    const notHere = await a.run('status');
    expect(notHere.code).toBe(1);
    expect(notHere.stdout).toContain(`no server started in ${a.dir}`);
    expect(notHere.stdout).toContain(`running elsewhere: pid`);
    const pidB = Number(/started \(pid (\d+)\)/.exec(startedB.stdout)![1]);
    expect((await a.run('stop', '--pid', String(pidB))).stdout).toContain(`has stopped (pid ${pidB}, ${b.dir})`);
    await expect(fetch(`${inferenceB}/ping`)).rejects.toThrow();
  });

  it('starts in the foreground with --foreground alone, as torchserve --foreground', async () => {
    const f = await folder();
    const child = spawn(process.execPath, [CLI_BIN, '--foreground', '--model-store', store, '--models', 'alpha=alpha.mar', '--dt', '--ncs'], { cwd: f.dir, env: f.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => /token authorization is off/.test(out) && resolve());
      void exited.then((code) => reject(new Error(`exited (${code}): ${out}`)));
    });
    expect((await postJson(`${bannerAddress(out, 'inference')}/predictions/alpha`, { op: 'echo', value: 3 })).json).toMatchObject({ value: 3 });
    expect((await f.run('status')).stdout).toMatch(/model alpha 1\.0 \(default\)/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('acts on the server named by the config file it was started with', async () => {
    const a = await folder();
    const started = await a.run('start', '--ts-config', join(a.dir, 'config.properties'), '--model-store', store, '--models', 'alpha=alpha.mar', '--dt', '--ncs');
    expect(started.code).toBe(0);
    const elsewhere = await folder();
    const status = await elsewhere.run('status', '--ts-config', join(a.dir, 'config.properties'));
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('model alpha 1.0');
    expect((await elsewhere.run('stop', '--ts-config', join(a.dir, 'config.properties'))).stdout).toContain('has stopped');
  });

  it('names the config key and address when a port is taken (EADDRINUSE)', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const f = await folder([`management_address=http://127.0.0.1:${port}`]);
      await writeFile(join(f.dir, 'config.properties'), `inference_address=http://127.0.0.1:0\nmanagement_address=http://127.0.0.1:${port}\nmetrics_address=http://127.0.0.1:0\ngrpc_inference_port=0\ngrpc_management_port=0\n`);
      const message = `Cannot listen on http://127.0.0.1:${port} (management_address): the port is in use by another process (EADDRINUSE): stop it, or set management_address to another port`;
      const foreground = await f.run('start', '--foreground', '--model-store', store, '--dt', '--ncs');
      expect(foreground.code).toBe(1);
      expect(foreground.stderr).toContain(message);
      const background = await f.run('start', '--model-store', store, '--dt', '--ncs');
      expect(background.code).toBe(1);
      expect(background.stderr).toContain('server exited during start-up');
      expect(background.stderr).toContain(message);
    } finally {
      blocker.close();
    }
  });
});

describe('config snapshots never turn token authorization off silently', () => {
  it('says so on stdout when a restored snapshot has authorization off, and a demo run with --ncs leaves none', async () => {
    const f = await folder();
    // A run like `npm start`'s demo (authorization off) but writing snapshots, as the demo used to.
    const demo = await f.run('start', '--model-store', store, '--models', 'alpha=alpha.mar', '--dt');
    expect(demo.code).toBe(0);
    await f.run('stop');
    expect((await readdir(join(f.dir, 'logs', 'config'))).length).toBeGreaterThan(0);
    const restored = await f.run('start', '--model-store', store, '--models', 'beta=beta.mar');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/token authorization is OFF: the restored config snapshot \S+-shutdown\.cfg has disable_token_authorization=true/);
    expect(restored.stderr).toContain('--models is ignored when a config snapshot is restored');
    expect((await f.run('status')).stdout).toMatch(/token authorization: off \(restored from config snapshot/);
    await f.run('stop');

    // The demo's way now: --ncs writes nothing, so the next start is the user's own, with authorization on.
    const clean = await folder();
    expect((await clean.run('start', '--model-store', store, '--models', 'alpha=alpha.mar', '--dt', '--ncs')).code).toBe(0);
    await clean.run('stop');
    const own = await clean.run('start', '--model-store', store, '--models', 'alpha=alpha.mar');
    expect(own.code).toBe(0);
    const keyFile = join(clean.dir, 'key_file.json');
    expect(own.stdout).toContain(`token authorization is on: keys in ${keyFile}`);
    const inference = bannerAddress(own.stdout, 'inference');
    expect((await postJson(`${inference}/predictions/alpha`, { op: 'echo' })).status).toBe(401);
    const keys = JSON.parse(await readFile(keyFile, 'utf8')) as { inference: { key: string } };
    expect((await postJson(`${inference}/predictions/alpha`, { op: 'echo' }, { authorization: `Bearer ${keys.inference.key}` })).status).toBe(200);
    expect((await clean.run('status')).stdout).toContain(`token authorization: on (keys in ${keyFile})`);
  });
});
