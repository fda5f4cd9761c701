/**
 * JSON Schemas of the Open Inference Protocol, transcribed from the protocol's own OpenAPI document
 * (kserve/open-inference-protocol, specification/protocol/open_inference_rest.yaml, components.schemas)
 * and, for the readiness bodies the YAML leaves out, from inference_rest.md ($ready_model_response).
 * Field names, types and `required` lists are the spec's; nothing is loosened except where noted.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { expect } from 'vitest';

const parameters = { type: 'object' };
const tensorData = {
  type: 'array',
  items: { anyOf: [{ $ref: '#/$defs/tensor_data' }, { type: 'number' }, { type: 'string' }, { type: 'boolean' }] },
};
const metadataTensor = {
  type: 'object',
  properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer' } } },
  required: ['name', 'datatype', 'shape'],
};
const responseOutput = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    shape: { type: 'array', items: { type: 'integer' } },
    datatype: { type: 'string' },
    parameters: { $ref: '#/$defs/parameters' },
    data: { $ref: '#/$defs/tensor_data' },
  },
  required: ['name', 'shape', 'datatype', 'data'],
};

const defs = {
  parameters,
  tensor_data: tensorData,
  metadata_tensor: metadataTensor,
  request_input: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      shape: { type: 'array', items: { type: 'integer' } },
      datatype: { type: 'string' },
      parameters: { $ref: '#/$defs/parameters' },
      data: { $ref: '#/$defs/tensor_data' },
    },
    required: ['name', 'shape', 'datatype', 'data'],
  },
  request_output: { type: 'object', properties: { name: { type: 'string' }, parameters: { $ref: '#/$defs/parameters' } }, required: ['name'] },
  response_output: responseOutput,
  // Triton's binary tensor extension: an output sent as binary has parameters.binary_data_size instead
  // of `data`; the only change to the spec's response_output.
  binary_response_output: {
    ...responseOutput,
    required: ['name', 'shape', 'datatype'],
    anyOf: [{ required: ['data'] }, { required: ['parameters'], properties: { parameters: { required: ['binary_data_size'] } } }],
  },
};

const schemas = {
  metadata_server_response: {
    type: 'object',
    properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: { type: 'array', items: { type: 'string' } } },
    required: ['name', 'version', 'extensions'],
  },
  metadata_model_response: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      versions: { type: 'array', items: { type: 'string' } },
      platform: { type: 'string' },
      inputs: { type: 'array', items: { $ref: '#/$defs/metadata_tensor' } },
      outputs: { type: 'array', items: { $ref: '#/$defs/metadata_tensor' } },
    },
    required: ['name', 'platform'],
  },
  inference_request: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      parameters: { $ref: '#/$defs/parameters' },
      inputs: { type: 'array', items: { $ref: '#/$defs/request_input' } },
      outputs: { type: 'array', items: { $ref: '#/$defs/request_output' } },
    },
    required: ['inputs'],
  },
  inference_response: {
    type: 'object',
    properties: {
      model_name: { type: 'string' },
      model_version: { type: 'string' },
      id: { type: 'string' },
      parameters: { $ref: '#/$defs/parameters' },
      outputs: { type: 'array', items: { $ref: '#/$defs/response_output' } },
    },
    required: ['model_name', 'outputs'],
  },
  binary_inference_response_header: {
    type: 'object',
    properties: {
      model_name: { type: 'string' },
      model_version: { type: 'string' },
      id: { type: 'string' },
      parameters: { $ref: '#/$defs/parameters' },
      outputs: { type: 'array', items: { $ref: '#/$defs/binary_response_output' } },
    },
    required: ['model_name', 'outputs'],
  },
  // metadata_server_error_response, metadata_model_error_response, inference_error_response
  error_response: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
  ready_model_response: { type: 'object', properties: { name: { type: 'string' }, ready: { type: 'boolean' } }, required: ['name', 'ready'] },
} as const;

export type OipSchema = keyof typeof schemas;

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<OipSchema, ValidateFunction>(
  Object.entries(schemas).map(([name, schema]) => [name as OipSchema, ajv.compile({ $defs: defs, ...schema })]),
);

/** Asserts that `body` validates against the named spec schema, showing ajv's errors if not. */
export function expectOipSchema(name: OipSchema, body: unknown): void {
  const validate = validators.get(name)!;
  const ok = validate(body);
  expect(ok, `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
}

/** Whether `body` validates (for tests that check a malformed body is caught). */
export function matchesOipSchema(name: OipSchema, body: unknown): boolean {
  return validators.get(name)!(body) as boolean;
}
