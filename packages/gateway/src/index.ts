export { Gateway, SERVER_VERSION, type GatewayOptions, type RegisterOptions, type Addresses } from './gateway.js';
export { loadServerConfig, parseAddress, serverConfigSchema, type ServerConfig, type LoadConfigOptions } from './config/server-config.js';
export { parseProperties } from './config/properties.js';
export { resolveModelSettings, type ModelSettings } from './config/model-config.js';
export { createLogger, type Logger } from './logger.js';
export { TIMEOUT_HEADER, PRIORITY_HEADER } from './http/predictions.js';
export { isProbeRequest } from './probe-paths.js';
export { OIP_EXTENSIONS } from './v2/v2-router.js';
