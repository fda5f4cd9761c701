import { Ajv, type ErrorObject } from 'ajv';

/**
 * Closed JSON schemas of the KServe fields our manifests use, written from the runtime contract
 * (shared/reference/kserve-runtime.md §2–§8, §12): KServe publishes no npm models, and its CRDs are too
 * open to catch a misspelling. Container and volume fields are not repeated here: the test checks them
 * against the core Kubernetes schemas (k8s-schemas.ts), as KServe embeds core/v1 types.
 */

const str = { type: 'string', minLength: 1 } as const;
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const quantity = { anyOf: [{ type: 'string', pattern: '^[0-9.]+[a-zA-Z]*$' }, { type: 'number' }] } as const;
const objects = { type: 'array', items: { type: 'object' } } as const;
/** §4: the protocols KServe knows (its CRD has no enum; a wrong value silently matches nothing). */
const PROTOCOLS = ['v1', 'v2', 'grpc-v1', 'grpc-v2'];

const metadata = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    // §4: KServe's :explain route only matches [\w-]+ model names, and the model name is the ISVC's.
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    namespace: str,
    labels: stringMap,
    annotations: stringMap,
  },
} as const;

const servingRuntimeSpec = {
  type: 'object',
  additionalProperties: false,
  required: ['containers'],
  properties: {
    supportedModelFormats: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: str,
          // "major", "major.minor" or "major.minor.patch", compared as strings.
          version: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+){0,2}$' },
          autoSelect: { type: 'boolean' },
          priority: { type: 'integer', minimum: 1 },
        },
      },
    },
    protocolVersions: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: PROTOCOLS } },
    multiModel: { type: 'boolean' },
    disabled: { type: 'boolean' },
    containers: { ...objects, minItems: 1 },
    volumes: objects,
    annotations: stringMap,
    labels: stringMap,
    nodeSelector: stringMap,
    tolerations: objects,
    imagePullSecrets: objects,
  },
} as const;

const runtime = (kind: string) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: { apiVersion: { const: 'serving.kserve.io/v1alpha1' }, kind: { const: kind }, metadata, spec: servingRuntimeSpec },
  }) as const;

/** §8.2: the storage URI schemes KServe's webhook accepts. */
const STORAGE_URI = '^(gs|s3|pvc|file|https?|hdfs|webhdfs|oci|oci\\+native|oci\\+fetch|hf)://.+$';

const metricTarget = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { enum: ['Utilization', 'Value', 'AverageValue'] },
    value: quantity,
    averageValue: quantity,
    averageUtilization: { type: 'integer', minimum: 1 },
  },
} as const;

/** The KServe fields of `spec.predictor.model`; the container fields it also takes are checked as core/v1 Container. */
export const MODEL_FIELDS = ['modelFormat', 'runtime', 'runtimeVersion', 'protocolVersion', 'storageUri'] as const;

const inferenceService = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'serving.kserve.io/v1beta1' },
    kind: { const: 'InferenceService' },
    metadata: {
      ...metadata,
      properties: {
        ...metadata.properties,
        annotations: {
          type: 'object',
          additionalProperties: { type: 'string' },
          properties: {
            // §6, §12. Always set the mode: clusters differ in their default.
            'serving.kserve.io/deploymentMode': { enum: ['Standard', 'RawDeployment', 'Knative', 'Serverless'] },
            'serving.kserve.io/autoscalerClass': { enum: ['hpa', 'keda', 'external', 'none'] },
          },
          required: ['serving.kserve.io/deploymentMode'],
        },
      },
      required: ['name', 'annotations'],
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['predictor'],
      properties: {
        predictor: {
          type: 'object',
          additionalProperties: false,
          required: ['model'],
          properties: {
            // Component extension (§12).
            minReplicas: { type: 'integer', minimum: 0 },
            maxReplicas: { type: 'integer', minimum: 0 },
            scaleMetric: { enum: ['cpu', 'memory', 'concurrency', 'rps'] },
            scaleMetricType: { enum: ['Utilization', 'AverageValue', 'Value'] },
            scaleTarget: { type: 'integer', minimum: 1 },
            containerConcurrency: { type: 'integer', minimum: 0 },
            timeout: { type: 'integer', minimum: 1 },
            autoScaling: {
              type: 'object',
              additionalProperties: false,
              properties: {
                behavior: { type: 'object' },
                metrics: {
                  type: 'array',
                  minItems: 1,
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['type'],
                    properties: {
                      type: { enum: ['Resource', 'External', 'PodMetric'] },
                      resource: {
                        type: 'object',
                        additionalProperties: false,
                        required: ['name', 'target'],
                        properties: { name: { enum: ['cpu', 'memory'] }, target: metricTarget },
                      },
                      external: {
                        type: 'object',
                        additionalProperties: false,
                        required: ['metric', 'target'],
                        properties: {
                          metric: {
                            type: 'object',
                            additionalProperties: false,
                            required: ['backend', 'query'],
                            properties: {
                              backend: { enum: ['prometheus', 'graphite'] },
                              serverAddress: { type: 'string', pattern: '^https?://' },
                              query: str,
                              namespace: str,
                            },
                          },
                          target: metricTarget,
                          authenticationRef: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: str, authModes: str } },
                        },
                      },
                    },
                  },
                },
              },
            },
            // The pod fields we set (the predictor inlines a PodSpec).
            terminationGracePeriodSeconds: { type: 'integer', minimum: 0 },
            serviceAccountName: str,
            nodeSelector: stringMap,
            tolerations: objects,
            model: {
              type: 'object',
              required: ['modelFormat', 'storageUri'],
              properties: {
                modelFormat: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['name'],
                  properties: { name: str, version: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+){0,2}$' } },
                },
                runtime: str,
                runtimeVersion: str,
                protocolVersion: { enum: PROTOCOLS },
                storageUri: { type: 'string', pattern: STORAGE_URI },
              },
            },
          },
        },
      },
    },
  },
} as const;

export type KServeKind = 'ServingRuntime' | 'ClusterServingRuntime' | 'InferenceService';

/** Whether a manifest object is one of the KServe kinds these schemas cover. */
export function isKServeKind(object: { apiVersion?: unknown; kind?: unknown }): object is { kind: KServeKind } {
  return String(object.apiVersion).startsWith('serving.kserve.io/') && ['ServingRuntime', 'ClusterServingRuntime', 'InferenceService'].includes(String(object.kind));
}

const ajv = new Ajv({ strict: true, allErrors: true });
const validators = {
  ServingRuntime: ajv.compile(runtime('ServingRuntime')),
  ClusterServingRuntime: ajv.compile(runtime('ClusterServingRuntime')),
  InferenceService: ajv.compile(inferenceService),
};

/** Schema errors of a KServe object as `/json/pointer message`; empty when valid. */
export function kserveErrors(kind: KServeKind, object: unknown): string[] {
  const validate = validators[kind];
  if (validate(object)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.keyword === 'additionalProperties' ? ` (${String(e.params['additionalProperty'])})` : ''}`);
}
