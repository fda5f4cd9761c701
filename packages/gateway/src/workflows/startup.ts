import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelServerError } from '@model-server/protocol';
import { WORKFLOW_MANIFEST_PATH } from '@model-server/archive';
import type { ServerConfig } from '../config/server-config.js';
import type { Logger } from '../logging/logger.js';
import { AllowedUrls } from '../management/allowed-urls.js';
import { archiveSource } from '../management/archive-source.js';
import { parseModelSpecs, type ModelSpec } from '../model-loader.js';
import type { WorkflowRegistry } from './registry.js';
import { workflowStore } from './routes.js';

/** Every workflow archive in the store: `.war` files, and folders with WAR-INF/MANIFEST.json. */
async function listWorkflowStore(store: string): Promise<ModelSpec[]> {
  const out: ModelSpec[] = [];
  for (const entry of (await readdir(store, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isFile() && entry.name.endsWith('.war')) out.push({ url: entry.name });
    else if (entry.isDirectory() && (await stat(join(store, entry.name, WORKFLOW_MANIFEST_PATH)).catch(() => undefined))) out.push({ url: entry.name });
  }
  return out;
}

/**
 * The workflows named by `--workflows` (`name=x.war`, `x.war`, or `all`: every workflow archive in the
 * workflow store), registered side by side after the models. One that fails does not stop the others;
 * the failures are returned for readiness to report.
 */
export async function loadStartupWorkflows(
  workflows: WorkflowRegistry,
  config: ServerConfig,
  logger: Logger,
  values: readonly string[],
): Promise<{ url: string; reason: string }[]> {
  const specs: ModelSpec[] = [];
  for (const spec of parseModelSpecs(values)) {
    if (spec !== 'all') specs.push(spec);
    else if (config.workflow_store) specs.push(...(await listWorkflowStore(config.workflow_store)));
    else throw new ModelServerError('CONFIG_INVALID', { file: '--workflows', reason: '"all" needs a workflow store (--workflow-store)' });
  }
  const allowed = new AllowedUrls(config.allowed_urls);
  const results = await Promise.allSettled(
    specs.map(async (s) => {
      const source = await archiveSource(s.url, workflowStore(config), allowed, config);
      return workflows.register({ path: source.path, url: s.url, name: s.name });
    }),
  );
  const failures: { url: string; reason: string }[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') return;
    const url = specs[i]!.url;
    const reason = (r.reason as Error).message;
    logger.error({ url }, `failed to load workflow: ${reason}`);
    failures.push({ url, reason });
  });
  return failures;
}
