import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { ROOT } from './models.js';
import { findTool } from './tools.js';

/** A Kubernetes object as YAML gives it; fields are checked by the schema helpers, not typed here. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [field: string]: unknown;
}

export const KUBERNETES_DIR = join(ROOT, 'deploy', 'kubernetes');
export const KSERVE_DIR = join(ROOT, 'deploy', 'kserve');
/** What a platform engineer applies with `kubectl apply -k`. */
export const KUSTOMIZATIONS = ['overlays/dev', 'overlays/prod', 'overlays/prod-keda', 'prometheus-adapter'] as const;

/** Every object of a multi-document YAML text; a YAML error throws. */
export function parseManifests(text: string, source: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

/** The objects `kubectl kustomize` renders from a kustomization under deploy/kubernetes (real kustomize). */
export async function renderKustomization(dir: string): Promise<Manifest[]> {
  const kubectl = findTool('kubectl', 'kubectl (with its built-in kustomize) renders the overlays; install kubectl 1.27 or newer');
  const r = await execa(kubectl, ['kustomize', join(KUBERNETES_DIR, dir)], { reject: false });
  if (r.exitCode !== 0 || r.stderr !== '') throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr}`);
  return parseManifests(r.stdout, dir);
}

/** The KServe manifests, by file name. */
export async function kserveManifests(): Promise<Map<string, Manifest[]>> {
  const out = new Map<string, Manifest[]>();
  for (const name of (await readdir(KSERVE_DIR)).filter((n) => n.endsWith('.yaml')).sort()) {
    out.set(name, parseManifests(await readFile(join(KSERVE_DIR, name), 'utf8'), name));
  }
  return out;
}

/** The one object of `kind` (and `name`, if given) in a list; throws when there is none or several. */
export function only(manifests: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** One prometheus-adapter rule (deploy/kubernetes/prometheus-adapter/config.yaml). */
export interface AdapterRule {
  seriesQuery: string;
  resources: { overrides: Record<string, { resource: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}

/** The adapter rules from the text of its config file. */
export function parseAdapterRules(text: string): AdapterRule[] {
  return (parseYaml(text) as { rules: AdapterRule[] }).rules;
}

/** A rule's metricsQuery as the adapter fills in its Go template for one request. */
export function adapterQuery(rule: AdapterRule, labelMatchers: string, groupBy: string): string {
  return rule.metricsQuery
    .replaceAll('<<.Series>>', /^(\w+)/.exec(rule.seriesQuery)![1]!)
    .replaceAll('<<.LabelMatchers>>', labelMatchers)
    .replaceAll('<<.GroupBy>>', groupBy);
}
