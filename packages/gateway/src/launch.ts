/**
 * What a launcher needs before the gateway runs: the config and the node flags it implies. A separate
 * entry (`@model-server/gateway/launch`) so that a process that only launches the gateway, such as
 * `model-server start` waiting on its relaunched child, does not load and keep the whole gateway.
 */
export { loadServerConfig, type ServerConfig, type LoadConfigOptions } from './config/server-config.js';
export { gatewayNodeArgs, runsWith } from './config/vm-args.js';
export { defaultSnapshotDir, latestSnapshot } from './snapshot/snapshot-store.js';
export { didYouMean, didYouMeanSuffix } from './config/did-you-mean.js';
export { isHttpsAddress } from './config/tls.js';
export { SERVER_VERSION } from './version.js';
export { LOG_FILE_ENV } from './logging/log-file-env.js';
export { EPHEMERAL_LOOPBACK } from './config/ephemeral-addresses.js';
