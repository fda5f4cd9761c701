/**
 * The message shapes the server reads and writes, as proto-loader gives them with
 * SERVER_LOADER_OPTIONS (field names as in the .proto files, 64-bit integers as decimal strings,
 * `bytes` as Buffers, every field present). Only the fields the server uses are listed.
 */

export interface RpcStatus {
  code: number;
  message: string;
  details: { type_url: string; value: Uint8Array }[];
}

// --- org.pytorch.serve.grpc.inference -----------------------------------------------------------
export interface PredictionsRequest {
  model_name: string;
  model_version: string;
  input: Record<string, Buffer>;
  sequence_id?: string;
}

export interface PredictionResponse {
  prediction?: Uint8Array;
  sequence_id?: string;
  status?: RpcStatus;
}

// --- org.pytorch.serve.grpc.management ----------------------------------------------------------
export interface DescribeModelRequest {
  model_name: string;
  model_version: string;
  customized: boolean;
}
export interface ListModelsRequest {
  limit: number;
  next_page_token: number;
}
export interface RegisterModelRequest {
  batch_size: number;
  handler: string;
  initial_workers: number;
  max_batch_delay: number;
  model_name: string;
  response_timeout: number;
  runtime: string;
  synchronous: boolean;
  url: string;
  s3_sse_kms: boolean;
  startup_timeout: number;
}
export interface ScaleWorkerRequest {
  model_name: string;
  model_version: string;
  max_worker: number;
  min_worker: number;
  number_gpu: number;
  synchronous: boolean;
  timeout: number;
}
export interface ModelVersionRequest {
  model_name: string;
  model_version: string;
}
export interface ManagementResponse {
  msg: string;
}

// --- inference (Open Inference Protocol) -----------------------------------------------------------
export type InferParameterChoice = 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';

export interface InferParameter {
  parameter_choice?: InferParameterChoice;
  bool_param?: boolean;
  int64_param?: string | number;
  string_param?: string;
  double_param?: number;
  uint64_param?: string | number;
}

export interface InferTensorContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: (string | number)[];
  uint_contents: number[];
  uint64_contents: (string | number)[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Uint8Array[];
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: (string | number)[];
  parameters: Record<string, InferParameter>;
  contents: InferTensorContents | null;
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameter>;
  inputs: InferInputTensor[];
  outputs: { name: string; parameters: Record<string, InferParameter> }[];
  raw_input_contents: Buffer[];
}

export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: number[];
  contents?: Partial<InferTensorContents>;
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, InferParameter>;
  outputs: InferOutputTensor[];
  raw_output_contents: Uint8Array[];
}

export interface ModelStreamInferResponse {
  error_message: string;
  infer_response?: ModelInferResponse;
}

/** Requests that name a model and a version (ModelReady, ModelMetadata, ModelConfig, ModelStatistics). */
export interface NameVersionRequest {
  name: string;
  version: string;
}

export interface RepositoryModelRequest {
  repository_name: string;
  model_name: string;
  parameters: Record<string, { parameter_choice?: string }>;
}
