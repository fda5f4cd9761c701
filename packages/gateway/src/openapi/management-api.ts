import type { GatewayContext } from '../gateway-context.js';
import { jsonResponse, pathParam, queryParam } from './parts.js';
import { statusPaths } from './status-paths.js';

const error = (description: string) => jsonResponse(description, 'Error');
const status = (description: string) => jsonResponse(description, 'Status');
const path = pathParam;
const query = queryParam;
const model = path('model_name', 'Name of the model');
const version = path('model_version', 'Version of the model, or "all" when describing');

/** The OpenAPI 3.0.1 document of the management API, served by `OPTIONS /` and `GET /api-description`. */
export function buildManagementOpenApi(ctx: GatewayContext): Record<string, unknown> {
  const describe = {
    operationId: 'describeModel',
    summary: 'Describes a model version (default, given, or all): settings, workers, queue.',
    responses: { '200': { description: 'Array of model descriptions' }, '404': error('Model or version not found') },
  };
  const scale = {
    operationId: 'setAutoScale',
    summary: 'Scales the workers of a model version: adds up to min_worker, removes beyond max_worker.',
    parameters: [
      query('min_worker', 'integer', 'Minimum number of workers (default 1)'),
      query('max_worker', 'integer', 'Maximum number of workers (default min_worker)'),
      query('synchronous', 'boolean', 'Wait for the workers (default false)'),
    ],
    responses: {
      '200': status('Workers scaled'),
      '202': status('Processing worker updates...'),
      '206': status('Workers scaling in progress...'),
      '400': error('max_worker < min_worker or a bad parameter'),
      '404': error('Model or version not found'),
      '500': error('Workers failed to start'),
    },
  };
  const unregister = {
    operationId: 'unregisterModel',
    summary: 'Unregisters a model version after draining it (needs enable_model_api).',
    responses: {
      '200': status('Model unregistered'),
      '403': error('Cannot remove the default version while other versions exist'),
      '404': error('Model or version not found'),
      '405': error('Model API disabled'),
      '408': error('Draining took longer than unregister_model_timeout'),
    },
  };
  return {
    openapi: '3.0.1',
    info: { title: 'model-server management API', description: 'TorchServe-compatible management API of model-server.', version: ctx.version },
    paths: {
      '/': { options: { operationId: 'apiDescription', summary: 'This API description', responses: { '200': { description: 'OpenAPI document' } } } },
      '/models': {
        get: {
          operationId: 'listModels',
          summary: 'Lists registered models, sorted by name.',
          parameters: [query('limit', 'integer', 'Page size (default and maximum 100)'), query('next_page_token', 'integer', 'Offset returned by the previous page')],
          responses: { '200': { description: '{"models": [{"modelName", "modelUrl"}], "nextPageToken"?}' } },
        },
        post: {
          operationId: 'registerModel',
          summary: 'Registers a model archive from the model store or an allowed URL (needs enable_model_api).',
          parameters: [
            query('url', 'string', 'Archive name in the model store, or an http(s) URL matching allowed_urls'),
            query('model_name', 'string', "Model name (default: the manifest's)"),
            query('batch_size', 'integer', 'Batch size'),
            query('max_batch_delay', 'integer', 'Batching delay in ms'),
            query('initial_workers', 'integer', 'Workers to start'),
            query('synchronous', 'boolean', 'Wait for the workers (default true)'),
            query('response_timeout', 'integer', 'Response timeout in seconds'),
            query('startup_timeout', 'integer', 'Model load timeout in seconds'),
          ],
          responses: {
            '200': status('Model registered'),
            '202': status('Processing worker updates...'),
            '400': error('Missing url, bad parameter, bad archive or download failure'),
            '404': error('Archive not found or URL not allowed'),
            '405': error('Model API disabled'),
            '409': error('Version already registered'),
            '500': error('Workers failed to start'),
          },
        },
      },
      '/models/{model_name}': { get: { ...describe, parameters: [model] }, put: { ...scale, parameters: [model, ...scale.parameters] }, delete: { ...unregister, parameters: [model] } },
      '/models/{model_name}/{model_version}': {
        get: { ...describe, parameters: [model, version] },
        put: { ...scale, parameters: [model, version, ...scale.parameters] },
        delete: { ...unregister, parameters: [model, version] },
      },
      '/models/{model_name}/{model_version}/set-default': {
        put: {
          operationId: 'setDefault',
          summary: 'Makes a version the default one.',
          parameters: [model, version],
          responses: { '200': status('Default version updated'), '404': error('Model or version not found') },
        },
      },
      ...statusPaths(),
      '/workflows': {
        get: {
          operationId: 'listWorkflows',
          summary: 'Lists registered workflows, sorted by name.',
          parameters: [query('limit', 'integer', 'Page size (default and maximum 100)'), query('next_page_token', 'integer', 'Offset returned by the previous page')],
          responses: { '200': { description: '{"workflows": [{"workflowName", "workflowUrl"}], "nextPageToken"?}' } },
        },
        post: {
          operationId: 'registerWorkflow',
          summary: 'Registers a workflow archive (.war) from the workflow store or an allowed URL, every node as a model (needs enable_model_api).',
          parameters: [
            query('url', 'string', 'Archive name in the workflow store, or an http(s) URL matching allowed_urls'),
            query('workflow_name', 'string', "Workflow name (default: the manifest's)"),
            query('response_timeout', 'integer', "Response timeout of every node's model, in seconds"),
            query('startup_timeout', 'integer', "Load timeout of every node's model, in seconds"),
          ],
          responses: {
            '200': status('Workflow registered and scaled'),
            '400': error('Missing url, bad parameter, invalid archive or graph'),
            '404': error('Archive not found or URL not allowed'),
            '405': error('Registering workflows is disabled'),
            '409': error('Workflow or node model already registered'),
            '500': error('Workers of a node failed to start'),
          },
        },
      },
      '/workflows/{workflow_name}': {
        get: {
          operationId: 'describeWorkflow',
          summary: 'Describes a workflow: its global properties, its dag, and the model serving each node.',
          parameters: [path('workflow_name', 'Name of the workflow')],
          responses: { '200': { description: 'Array of one workflow description' }, '404': error('Workflow not found') },
        },
        delete: {
          operationId: 'unregisterWorkflow',
          summary: 'Unregisters a workflow and the models of its nodes (needs enable_model_api).',
          parameters: [path('workflow_name', 'Name of the workflow')],
          responses: { '200': status('Workflow unregistered'), '404': error('Workflow not found'), '405': error('Unregistering workflows is disabled') },
        },
      },
      '/token': {
        get: {
          operationId: 'regenerateToken',
          summary: "Regenerates the management or inference key (needs the API key from key_file.json).",
          parameters: [query('type', 'string', 'management or inference')],
          responses: { '200': { description: 'Key regenerated; read it from key_file.json' }, '400': error('Bad type'), '401': error('Wrong API key') },
        },
      },
    },
    components: {
      schemas: {
        Status: { type: 'object', required: ['status'], properties: { status: { type: 'string' } } },
        Error: {
          type: 'object',
          required: ['code', 'type', 'message'],
          properties: { code: { type: 'integer' }, type: { type: 'string' }, message: { type: 'string' }, errorCode: { type: 'string' } },
        },
      },
    },
  };
}
