/**
 * The OpenAPI paths and schemas of KServe v1 and the Open Inference Protocol (v2), for the inference
 * API's description. The v2 schemas are those of the protocol's own open_inference_rest.yaml, with
 * Triton's binary tensor parameters noted where they apply.
 */

import { jsonResponse, pathParam } from './parts.js';

const json = (schema: unknown) => ({ 'application/json': { schema } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const oipError = (description: string) => jsonResponse(description, 'OipError');
const modelParam = pathParam('model_name');
const versionParam = pathParam('model_version');

/** The same operation at `/v2/models/{m}{suffix}` and `/v2/models/{m}/versions/{v}{suffix}`. */
function both(suffix: string, make: (withVersion: boolean) => Record<string, unknown>): Record<string, unknown> {
  return {
    [`/v2/models/{model_name}${suffix}`]: make(false),
    [`/v2/models/{model_name}/versions/{model_version}${suffix}`]: make(true),
  };
}

const params = (withVersion: boolean) => (withVersion ? [modelParam, versionParam] : [modelParam]);

export const kserveSchemas: Record<string, unknown> = {
  OipError: { type: 'object', required: ['error'], properties: { error: { type: 'string' } } },
  parameters: { type: 'object', additionalProperties: true },
  tensor_data: {
    type: 'array',
    items: { anyOf: [ref('tensor_data'), { type: 'number' }, { type: 'string' }, { type: 'boolean' }] },
  },
  metadata_server_response: {
    type: 'object',
    required: ['name', 'version', 'extensions'],
    properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
  },
  metadata_tensor: {
    type: 'object',
    required: ['name', 'datatype', 'shape'],
    properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
  },
  metadata_model_response: {
    type: 'object',
    required: ['name', 'platform'],
    properties: {
      name: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      platform: { type: 'string' },
      inputs: { type: 'array', items: ref('metadata_tensor') },
      outputs: { type: 'array', items: ref('metadata_tensor') },
    },
  },
  request_input: {
    type: 'object',
    required: ['name', 'shape', 'datatype'],
    description: '`data` is required unless parameters.binary_data_size says the bytes follow the JSON (binary tensor extension).',
    properties: {
      name: { type: 'string' },
      shape: { type: 'array', items: { type: 'integer' } },
      datatype: { type: 'string', enum: ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] },
      parameters: ref('parameters'),
      data: ref('tensor_data'),
    },
  },
  request_output: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, parameters: ref('parameters') } },
  inference_request: {
    type: 'object',
    required: ['inputs'],
    properties: {
      id: { type: 'string' },
      parameters: ref('parameters'),
      inputs: { type: 'array', items: ref('request_input') },
      outputs: { type: 'array', items: ref('request_output') },
    },
  },
  response_output: {
    type: 'object',
    required: ['name', 'shape', 'datatype'],
    description: '`data` is present unless the output was asked for as binary (parameters.binary_data_size).',
    properties: {
      name: { type: 'string' },
      shape: { type: 'array', items: { type: 'integer' } },
      datatype: { type: 'string' },
      parameters: ref('parameters'),
      data: ref('tensor_data'),
    },
  },
  inference_response: {
    type: 'object',
    required: ['model_name', 'outputs'],
    properties: {
      model_name: { type: 'string' },
      model_version: { type: 'string' },
      id: { type: 'string' },
      parameters: ref('parameters'),
      outputs: { type: 'array', items: ref('response_output') },
    },
  },
  ModelReady: { type: 'object', required: ['name', 'ready'], properties: { name: { type: 'string' }, ready: { type: 'boolean' } } },
  V1Request: { type: 'object', required: ['instances'], properties: { instances: { type: 'array', items: {} } } },
  V1Predictions: { type: 'object', required: ['predictions'], properties: { predictions: { type: 'array', items: {} } } },
  V1Explanations: { type: 'object', required: ['explanations'], properties: { explanations: { type: 'array', items: {} } } },
};

const v1Verb = (verb: 'predict' | 'explain', withVersion: boolean) => ({
  post: {
    operationId: `kserveV1${verb === 'predict' ? 'Predict' : 'Explain'}${withVersion ? 'Version' : ''}`,
    summary: `KServe v1 ${verb}: one ${verb === 'predict' ? 'prediction' : 'explanation'} per instance ({"b64": ...} for binary)`,
    parameters: params(withVersion),
    requestBody: { required: true, content: json(ref('V1Request')) },
    responses: {
      '200': { description: 'One result per instance', content: json(ref(verb === 'predict' ? 'V1Predictions' : 'V1Explanations')) },
      '400': oipError('Bad input'),
      '404': oipError('Unknown model or version'),
      '500': oipError('Model failure'),
      '503': oipError('Not ready or queue full'),
    },
  },
});

const v1Status = (withVersion: boolean) => ({
  get: {
    operationId: `kserveV1ModelStatus${withVersion ? 'Version' : ''}`,
    summary: 'KServe v1 model readiness',
    parameters: params(withVersion),
    responses: { '200': { description: 'Ready', content: json(ref('ModelReady')) }, '404': oipError('Unknown model'), '503': oipError('Not ready') },
  },
});

/** Paths of KServe v1 and the Open Inference Protocol served on the inference port. */
export const kservePaths: Record<string, unknown> = {
  '/v1/models': {
    get: {
      operationId: 'kserveV1ListModels',
      summary: 'KServe v1 model list',
      responses: { '200': { description: 'Model names', content: json({ type: 'object', properties: { models: { type: 'array', items: { type: 'string' } } } }) } },
    },
  },
  '/v1/models/{model_name}': v1Status(false),
  '/v1/models/{model_name}/versions/{model_version}': v1Status(true),
  '/v1/models/{model_name}:predict': v1Verb('predict', false),
  '/v1/models/{model_name}/versions/{model_version}:predict': v1Verb('predict', true),
  '/v1/models/{model_name}:explain': v1Verb('explain', false),
  '/v1/models/{model_name}/versions/{model_version}:explain': v1Verb('explain', true),
  '/v2': {
    get: {
      operationId: 'oipServerMetadata',
      summary: 'Server metadata; extensions lists binary_tensor_data, model_configuration, statistics, sequence, sequence(string_id)',
      responses: { '200': { description: 'OK', content: json(ref('metadata_server_response')) } },
    },
  },
  '/v2/health/live': {
    get: { operationId: 'oipServerLive', summary: 'Liveness (no token needed)', responses: { '200': { description: 'Live' } } },
  },
  '/v2/health/ready': {
    get: {
      operationId: 'oipServerReady',
      summary: 'Readiness: every model loaded (no token needed)',
      responses: { '200': { description: 'Ready' }, '503': oipError('Not ready') },
    },
  },
  '/v2/models/stats': {
    get: { operationId: 'oipAllStats', summary: "Triton's statistics extension, every model", responses: { '200': { description: 'model_stats' } } },
  },
  ...both('', (v) => ({
    get: {
      operationId: `oipModelMetadata${v ? 'Version' : ''}`,
      summary: 'Model metadata from the ONNX session (-1 = dynamic dimension)',
      parameters: params(v),
      responses: { '200': { description: 'OK', content: json(ref('metadata_model_response')) }, '404': oipError('Unknown model or version'), '503': oipError('Not ready') },
    },
  })),
  ...both('/ready', (v) => ({
    get: {
      operationId: `oipModelReady${v ? 'Version' : ''}`,
      summary: 'Model readiness (no token needed)',
      parameters: params(v),
      responses: { '200': { description: 'Ready', content: json(ref('ModelReady')) }, '404': oipError('Unknown model or version'), '503': oipError('Not ready') },
    },
  })),
  ...both('/infer', (v) => ({
    post: {
      operationId: `oipInfer${v ? 'Version' : ''}`,
      summary: "Inference; JSON, or Triton's binary tensor extension (Inference-Header-Content-Length)",
      parameters: params(v),
      requestBody: {
        required: true,
        content: { ...json(ref('inference_request')), 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      },
      responses: {
        '200': {
          description: 'Inference response (binary form when an output asks for binary_data)',
          content: { ...json(ref('inference_response')), 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
        },
        '400': oipError('Bad input'),
        '404': oipError('Unknown model or version'),
        '500': oipError('Model failure'),
        '503': oipError('Not ready or queue full'),
      },
    },
  })),
  ...both('/config', (v) => ({
    get: {
      operationId: `oipModelConfig${v ? 'Version' : ''}`,
      summary: "Triton's model configuration extension (for perf_analyzer)",
      parameters: params(v),
      responses: { '200': { description: 'config.pbtxt as JSON' }, '404': oipError('Unknown model or version') },
    },
  })),
  ...both('/stats', (v) => ({
    get: {
      operationId: `oipModelStats${v ? 'Version' : ''}`,
      summary: "Triton's statistics extension",
      parameters: params(v),
      responses: { '200': { description: 'model_stats' }, '404': oipError('Unknown model or version') },
    },
  })),
};
