import type { GatewayContext } from '../gateway-context.js';
import { jsonResponse, pathParam } from './parts.js';
import { kservePaths, kserveSchemas } from './kserve-paths.js';

const errorSchema = {
  type: 'object',
  required: ['code', 'type', 'message'],
  properties: {
    code: { type: 'integer', description: 'HTTP status code' },
    type: { type: 'string', description: 'Error type (TorchServe exception name)' },
    message: { type: 'string' },
    errorCode: { type: 'string', description: 'Stable model-server error code' },
  },
} as const;

const errorResponse = (description: string) => jsonResponse(description, 'Error');
const modelParam = pathParam('model_name', 'Name of the model');
const versionParam = pathParam('model_version', 'Version of the model');

function inferenceOperation(operationId: string, summary: string, withVersion: boolean) {
  return {
    operationId,
    summary,
    parameters: withVersion ? [modelParam, versionParam] : [modelParam],
    requestBody: {
      description: 'Input: a raw body (e.g. an image), or multipart/form-data fields that become named inputs.',
      required: true,
      content: {
        'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
        'multipart/form-data': { schema: { type: 'object', additionalProperties: { type: 'string', format: 'binary' } } },
        'application/json': { schema: {} },
      },
    },
    responses: {
      '200': { description: 'Model output; streamed as HTTP chunks when the handler streams.', content: { '*/*': { schema: {} } } },
      '400': errorResponse('Bad input'),
      '404': errorResponse('Model or version not found'),
      '413': errorResponse('Request body larger than max_request_size'),
      '500': errorResponse('Handler or worker failure'),
      '503': errorResponse('Queue full or no worker'),
      '504': errorResponse('Deadline exceeded'),
    },
  };
}

/** The OpenAPI 3.0.1 document of the inference API, served by `OPTIONS /` and `GET /api-description`. */
export function buildInferenceOpenApi(ctx: GatewayContext): Record<string, unknown> {
  return {
    openapi: '3.0.1',
    info: {
      title: 'model-server inference API',
      description: 'TorchServe-compatible inference API of model-server, with KServe v1 and the Open Inference Protocol (v2).',
      version: ctx.version,
    },
    paths: {
      '/': {
        options: {
          operationId: 'apiDescription',
          summary: 'This API description',
          responses: { '200': { description: 'OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
        get: {
          operationId: 'serverLive',
          summary: 'KServe v1 server liveness: {"status": "alive"} (no token needed)',
          responses: { '200': { description: 'Alive', content: { 'application/json': { schema: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['alive'] } } } } } } },
        },
      },
      '/api-description': {
        get: {
          operationId: 'getApiDescription',
          summary: 'This API description',
          responses: { '200': { description: 'OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      '/ping': {
        get: {
          operationId: 'ping',
          summary: 'Health: Healthy when every model has at least minWorkers live workers',
          responses: {
            '200': { description: 'Healthy', content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } } },
            '500': { description: 'Unhealthy', content: { 'application/json': { schema: { $ref: '#/components/schemas/Health' } } } },
          },
        },
      },
      '/predictions/{model_name}': { post: inferenceOperation('predictions', 'Predict with the default version', false) },
      '/predictions/{model_name}/{model_version}': {
        post: inferenceOperation('versionPredictions', 'Predict with a specific version', true),
      },
      '/explanations/{model_name}': { post: inferenceOperation('explanations', 'Explain with the default version', false) },
      '/explanations/{model_name}/{model_version}': {
        post: inferenceOperation('versionExplanations', 'Explain with a specific version', true),
      },
      '/wfpredict/{workflow_name}': {
        post: {
          ...inferenceOperation('workflowPredictions', 'Runs a request through a workflow (a DAG of models and functions)', false),
          parameters: [pathParam('workflow_name', 'Name of the workflow')],
        },
      },
      ...kservePaths,
    },
    components: {
      schemas: {
        Error: errorSchema,
        Health: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['Healthy', 'Unhealthy'] } } },
        ...kserveSchemas,
      },
    },
  };
}
