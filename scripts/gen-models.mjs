#!/usr/bin/env node
// Generates the example models that need no training, from source, so the
// repository does not carry binaries it can reproduce in about a second.
//
//   node scripts/gen-models.mjs [outDir]   (default: <repo>/examples)
//
// Deterministic (seeded weights, stable protobuf encoding) and idempotent:
// an up-to-date identity.onnx is left untouched, and heavy.onnx is only
// written when missing because it is large and never committed.

import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildModel, node, tensor, valueInfo, writeModel } from './lib/onnx-builder.mjs';
import { gaussian, mulberry32 } from './lib/prng.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(ROOT, 'examples'));

// One Identity per Open Inference Protocol datatype, so protocol tests can
// round-trip every datatype through a real onnxruntime session. All of these
// pass through Identity in onnxruntime-node 1.30 (checked: bool, (u)int8-64,
// float16 as raw Uint16Array bits, float32/64, string). BF16 is left out: the
// protocol spec has no BF16 (only Triton's extension does) and
// onnxruntime-node has no bfloat16 tensor type to feed it with.
const IDENTITY_TYPES = [
  ['bool', 'BOOL'],
  ['uint8', 'UINT8'],
  ['uint16', 'UINT16'],
  ['uint32', 'UINT32'],
  ['uint64', 'UINT64'],
  ['int8', 'INT8'],
  ['int16', 'INT16'],
  ['int32', 'INT32'],
  ['int64', 'INT64'],
  ['fp16', 'FLOAT16'],
  ['fp32', 'FLOAT'],
  ['fp64', 'DOUBLE'],
  ['bytes', 'STRING'],
];

function identityModel() {
  // Both dims symbolic: any 2-D shape is accepted, and the output metadata
  // tells clients the shape follows the input. The dim names are shared by
  // all inputs, but onnxruntime does not require equal sizes across inputs.
  //
  // Caveat for callers: onnxruntime-node rejects a run() whose feeds miss any
  // graph input ("input 'bool_in' is missing in 'feeds'"), so a request must
  // carry all 13 inputs (it may still fetch only some outputs). Making inputs
  // optional via default initializers would hide them from inputMetadata.
  const shape = ['N', 'D'];
  return buildModel({
    name: 'identity',
    docString: 'Echoes each <type>_in to <type>_out unchanged; one pair per Open Inference Protocol datatype.',
    inputs: IDENTITY_TYPES.map(([prefix, type]) => valueInfo(`${prefix}_in`, type, shape)),
    outputs: IDENTITY_TYPES.map(([prefix, type]) => valueInfo(`${prefix}_out`, type, shape)),
    nodes: IDENTITY_TYPES.map(([prefix]) => node('Identity', [`${prefix}_in`], [`${prefix}_out`])),
  });
}

// Big enough that a batch costs real CPU time (~5 MFLOP per row), so batching
// and queueing behaviour is observable in tests and benchmarks.
const HEAVY_LAYERS = [512, 1024, 1024, 1024, 10];
const HEAVY_SEED = 0x4ea7;

function heavyModel() {
  const randn = gaussian(mulberry32(HEAVY_SEED));
  const initializers = [];
  const nodes = [];
  let current = 'input';
  for (let l = 0; l + 1 < HEAVY_LAYERS.length; l++) {
    const fanIn = HEAVY_LAYERS[l];
    const fanOut = HEAVY_LAYERS[l + 1];
    // 1/sqrt(fan_in) keeps activations O(1) through the stack, so outputs
    // stay finite and comparable regardless of depth.
    const weight = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < weight.length; i++) weight[i] = randn() / Math.sqrt(fanIn);
    const bias = new Float32Array(fanOut);
    for (let i = 0; i < bias.length; i++) bias[i] = 0.01 * randn();
    const last = l + 2 === HEAVY_LAYERS.length;
    const prefix = `fc${l + 1}`;
    initializers.push(tensor(`${prefix}.weight`, weight, [fanIn, fanOut]), tensor(`${prefix}.bias`, bias, [fanOut]));
    nodes.push(node('MatMul', [current, `${prefix}.weight`], [`${prefix}.matmul`]));
    nodes.push(node('Add', [`${prefix}.matmul`, `${prefix}.bias`], [last ? 'output' : `${prefix}.out`]));
    if (!last) {
      nodes.push(node('Relu', [`${prefix}.out`], [`relu${l + 1}`]));
      current = `relu${l + 1}`;
    }
  }
  return buildModel({
    name: 'heavy_mlp',
    docString: `Random-weight MLP ${HEAVY_LAYERS.join('-')} with ReLU, for load tests. Outputs are meaningless.`,
    inputs: [valueInfo('input', 'FLOAT', ['N', HEAVY_LAYERS[0]])],
    outputs: [valueInfo('output', 'FLOAT', ['N', HEAVY_LAYERS[HEAVY_LAYERS.length - 1]])],
    initializers,
    nodes,
  });
}

async function exists(path) {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Skips the write when the bytes on disk are already identical (keeps mtimes stable for make-like tools). */
async function writeIfChanged(path, bytes) {
  const current = await readFile(path).catch(() => undefined);
  if (current && Buffer.compare(current, bytes) === 0) {
    console.log(`unchanged ${path}`);
    return;
  }
  await writeModel(path, bytes);
  console.log(`wrote ${path} (${bytes.length} bytes)`);
}

await writeIfChanged(join(outDir, 'identity', 'identity.onnx'), identityModel());

const heavyPath = join(outDir, 'heavy', 'heavy.onnx');
if (await exists(heavyPath)) {
  console.log(`kept existing ${heavyPath}`);
} else {
  const bytes = heavyModel();
  await writeModel(heavyPath, bytes);
  console.log(`wrote ${heavyPath} (${bytes.length} bytes)`);
}
