import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from './models.js';

/**
 * Validation of Kubernetes objects against the API schemas, closed. The model classes of
 * `kubernetes-models` (core kinds), `@kubernetes-models/keda` and `@kubernetes-models/prometheus-operator`
 * check types, required fields, enums and formats, but let unknown fields through: a misspelled field
 * would pass and be dropped by the API server. Their `.d.ts` interfaces, generated from the same
 * OpenAPI schemas, list every field, so a walk of the object against those types with the TypeScript
 * checker rejects any field the schema does not have.
 *
 * Versions are pinned for Node 20: kubernetes-models 4.5.1, @kubernetes-models/keda 0.4.2,
 * @kubernetes-models/prometheus-operator 4.4.4 (their next majors declare node >= 22).
 */

interface KindEntry {
  /** Module of the model class and its `.d.ts`. */
  module: string;
  /** The exported class, whose `validate()` checks types, required fields and formats. */
  className: string;
}

/** Kinds by `apiVersion/kind`, plus core types the KServe kinds embed (`v1/Container`, `v1/Volume`). */
export const KINDS: Readonly<Record<string, KindEntry>> = {
  'v1/Namespace': { module: 'kubernetes-models/v1/Namespace', className: 'Namespace' },
  'v1/ServiceAccount': { module: 'kubernetes-models/v1/ServiceAccount', className: 'ServiceAccount' },
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', className: 'ConfigMap' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', className: 'Service' },
  'v1/PersistentVolumeClaim': { module: 'kubernetes-models/v1/PersistentVolumeClaim', className: 'PersistentVolumeClaim' },
  'v1/Container': { module: 'kubernetes-models/v1/Container', className: 'Container' },
  'v1/Volume': { module: 'kubernetes-models/v1/Volume', className: 'Volume' },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', className: 'Deployment' },
  'policy/v1/PodDisruptionBudget': { module: 'kubernetes-models/policy/v1/PodDisruptionBudget', className: 'PodDisruptionBudget' },
  'autoscaling/v2/HorizontalPodAutoscaler': { module: 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', className: 'HorizontalPodAutoscaler' },
  'keda.sh/v1alpha1/ScaledObject': { module: '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject', className: 'ScaledObject' },
  'monitoring.coreos.com/v1/ServiceMonitor': { module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor', className: 'ServiceMonitor' },
  'monitoring.coreos.com/v1/PodMonitor': { module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor', className: 'PodMonitor' },
};

/** `apiVersion/kind` of a manifest object. */
export function kindKey(object: { apiVersion?: unknown; kind?: unknown }): string {
  return `${String(object.apiVersion)}/${String(object.kind)}`;
}

type ModelClass = new (data: unknown) => { validate(): void };

/** Runs the model class's `validate()`; returns its message, or undefined when the object is valid. */
export async function schemaErrors(key: string, object: unknown): Promise<string | undefined> {
  const entry = KINDS[key];
  if (!entry) return `no schema for ${key}`;
  const Model = ((await import(entry.module)) as Record<string, ModelClass>)[entry.className]!;
  try {
    new Model(object).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Damerau-free edit distance, for "did you mean" in unknown-field messages. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The interfaces of KINDS, read once with the TypeScript checker, and the closed walk over them. */
export class ClosedSchemas {
  private readonly checker: ts.TypeChecker;
  private readonly types = new Map<string, ts.Type>();

  constructor() {
    // A source file that exists only in memory, placed in the repository so node_modules resolves.
    const file = join(ROOT, 'test', '__k8s_kinds__.ts');
    const keys = Object.keys(KINDS);
    const source =
      keys.map((k, i) => `import type { I${KINDS[k]!.className} as T${i} } from '${KINDS[k]!.module}';`).join('\n') +
      `\nexport interface Kinds {\n${keys.map((k, i) => `  ${JSON.stringify(k)}: T${i};`).join('\n')}\n}\n`;
    const options: ts.CompilerOptions = {
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
    };
    const host = ts.createCompilerHost(options);
    const getSourceFile = host.getSourceFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest));
    host.fileExists = (name) => name === file || fileExists(name);
    const program = ts.createProgram([file], options, host);
    const sourceFile = program.getSourceFile(file)!;
    const problems = ts.getPreEmitDiagnostics(program, sourceFile);
    if (problems.length > 0) throw new Error(`schema types did not load: ${problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; ')}`);
    this.checker = program.getTypeChecker();
    const kinds = this.checker.getTypeAtLocation(sourceFile.statements.find(ts.isInterfaceDeclaration)!);
    for (const prop of kinds.getProperties()) this.types.set(prop.name, this.checker.getTypeOfSymbol(prop));
  }

  /** Fields of `object` that the schema of `key` does not declare, as `/json/pointer: message`. */
  unknownFields(key: string, object: unknown): string[] {
    const type = this.types.get(key);
    if (!type) return [`no schema for ${key}`];
    const errors: string[] = [];
    this.walk(object, type, '', errors);
    return errors;
  }

  private walk(value: unknown, type: ts.Type, path: string, errors: string[]): void {
    if (value === null || typeof value !== 'object') return;
    const members = (type.isUnion() ? type.types : [type]).filter((t) => (t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)) === 0);
    if (members.some((t) => (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) !== 0)) return;
    if (Array.isArray(value)) {
      const element = members.find((t) => this.checker.isArrayType(t));
      const item = element && this.checker.getIndexInfoOfType(element, ts.IndexKind.Number)?.type;
      if (item) value.forEach((v, i) => this.walk(v, item, `${path}/${i}`, errors));
      return;
    }
    // A primitive type where an object was given is validate()'s to report.
    const shapes = members.filter((t) => (t.flags & ts.TypeFlags.Object) !== 0 && !this.checker.isArrayType(t));
    let fewest: string[] | undefined;
    for (const shape of shapes) {
      const found: string[] = [];
      this.walkObject(value, shape, path, found);
      if (found.length === 0) return;
      if (!fewest || found.length < fewest.length) fewest = found;
    }
    if (fewest) errors.push(...fewest);
  }

  private walkObject(value: object, type: ts.Type, path: string, errors: string[]): void {
    const index = this.checker.getIndexInfoOfType(type, ts.IndexKind.String);
    for (const [key, v] of Object.entries(value)) {
      const prop = this.checker.getPropertyOfType(type, key);
      const fieldType = prop ? this.checker.getTypeOfSymbol(prop) : index?.type;
      if (fieldType) {
        this.walk(v, fieldType, `${path}/${key}`, errors);
        continue;
      }
      const near = type
        .getProperties()
        .map((p) => p.name)
        .filter((name) => distance(name.toLowerCase(), key.toLowerCase()) <= 2);
      errors.push(`${path}/${key}: unknown field${near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : ''}`);
    }
  }
}
