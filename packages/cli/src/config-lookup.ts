import { existsSync } from 'node:fs';
import { defaultSnapshotDir, latestSnapshot, loadServerConfig, type ServerConfig } from '@model-server/gateway/launch';

export type Values = Record<string, string | string[] | boolean>;

/** Where the config comes from: the user's file, and the config snapshot restored instead of it, if any. */
export interface ConfigSource {
  /** The file read: the user's, or the restored snapshot. */
  file: string | undefined;
  /** The user's own config file (TS_CONFIG_FILE, --ts-config, ./config.properties), which names the server for stop/status. */
  userFile: string | undefined;
  restoredSnapshot: string | undefined;
}

/**
 * The config file, looked up as TorchServe does: `TS_CONFIG_FILE`, then `--ts-config`, then (unless
 * `--ncs`) the newest config snapshot, which restores the models of the last run, then
 * ./config.properties.
 */
export async function configSource(values: Values): Promise<ConfigSource> {
  const given = process.env['TS_CONFIG_FILE'] ?? (values['ts-config'] as string | undefined);
  if (given) return { file: given, userFile: given, restoredSnapshot: undefined };
  const snapshot = values['ncs'] ? undefined : await latestSnapshot(defaultSnapshotDir());
  if (snapshot) {
    process.stderr.write(`model-server: restoring from config snapshot ${snapshot} (--ncs to start without it)\n`);
    if (values['models']) process.stderr.write('model-server: warning: --models is ignored when a config snapshot is restored\n');
    return { file: snapshot, userFile: undefined, restoredSnapshot: snapshot };
  }
  const local = existsSync('config.properties') ? 'config.properties' : undefined;
  return { file: local, userFile: local, restoredSnapshot: undefined };
}

/** The server config: the file, with the command line's flags on top. */
export function configFrom(values: Values, file: string | undefined): ServerConfig {
  const overrides: Record<string, unknown> = {};
  if (values['model-store']) overrides['model_store'] = values['model-store'];
  if (values['workflow-store']) overrides['workflow_store'] = values['workflow-store'];
  if (values['disable-token-auth']) overrides['disable_token_authorization'] = true;
  if (values['enable-model-api']) overrides['enable_model_api'] = true;
  return loadServerConfig({
    file,
    overrides,
    warn: (m) => process.stderr.write(`model-server: warning: ${m}\n`),
  });
}

/**
 * The banner line about token authorization. A restored snapshot that turns authorization off says so
 * here, on stdout: it may come from a run the user has forgotten (a demo started with
 * --disable-token-auth), and must never turn authorization off silently.
 */
export function authBanner(auth: { on: boolean; keyFile?: string | undefined }, source: { restoredSnapshot?: string | undefined }, values: Values): string {
  if (auth.on) {
    return `  token authorization is on: ${auth.keyFile ? `keys in ${auth.keyFile}` : 'keys given by configuration'} (Authorization: Bearer <key>; --disable-token-auth to turn off)\n`;
  }
  if (source.restoredSnapshot && !values['disable-token-auth']) {
    return (
      `  token authorization is OFF: the restored config snapshot ${source.restoredSnapshot} has disable_token_authorization=true\n` +
      '  (start with --ncs, or --ts-config FILE, to use your own settings instead of the last run\'s)\n'
    );
  }
  return '  token authorization is off\n';
}
