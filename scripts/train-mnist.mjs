#!/usr/bin/env node
// Trains the MNIST example model in plain JS and writes it as ONNX, so the
// repository needs no Python/PyTorch to reproduce its example model.
//
//   node scripts/train-mnist.mjs [output.onnx]   (default examples/mnist/mnist.onnx)
//
// 784-128-10 MLP, ReLU, softmax cross-entropy, Adam. The model takes raw
// pixels in [0, 1] (no mean/std normalisation baked into the inputs) so a
// server only has to decode a PNG and divide by 255.

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { buildModel, node, tensor, valueInfo, writeModel } from './lib/onnx-builder.mjs';
import { IMAGE_SIZE, PIXELS, heldOutSet, trainingSet } from './lib/mnist-split.mjs';
import { gaussian, mulberry32, shuffleInPlace } from './lib/prng.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUT = resolve(process.argv[2] ?? resolve(ROOT, 'examples/mnist/mnist.onnx'));

const HIDDEN = 128;
const CLASSES = 10;
const SEED = 0x5eed;
const EPOCHS = 30;
const BATCH = 64;
// Cosine decay from LR_MAX: large steps early, small steps to settle at the
// end; measured +0.7 points held-out over a constant 1e-3 at equal cost.
const LR_MAX = 2e-3;
const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;
// Random +-MAX_SHIFT pixel translations: with only ~8k training digits the
// MLP otherwise memorises pixel positions (held-out 96.0 % without, 98.0 %
// with); shifting is the cheapest augmentation that buys the margin the
// server tests rely on.
const MAX_SHIFT = 2;

const rand = mulberry32(SEED);
const randn = gaussian(rand);

// Weight layout matches ONNX MatMul(input[N,784], W1[784,128]) directly, so
// export needs no transpose: W1[i * HIDDEN + j] connects pixel i to unit j.
const W1 = new Float32Array(PIXELS * HIDDEN);
const b1 = new Float32Array(HIDDEN);
const W2 = new Float32Array(HIDDEN * CLASSES);
const b2 = new Float32Array(CLASSES);
// He initialisation keeps ReLU activations from shrinking or exploding.
for (let i = 0; i < W1.length; i++) W1[i] = randn() * Math.sqrt(2 / PIXELS);
for (let i = 0; i < W2.length; i++) W2[i] = randn() * Math.sqrt(2 / HIDDEN);

const params = [W1, b1, W2, b2];
const grads = params.map((p) => new Float32Array(p.length));
const adamM = params.map((p) => new Float32Array(p.length));
const adamV = params.map((p) => new Float32Array(p.length));
const [gW1, gb1, gW2, gb2] = grads;

// Scratch buffers reused for every sample to keep the GC out of the hot loop.
const shifted = new Float32Array(PIXELS);
const nzIndex = new Int32Array(PIXELS);
const nzValue = new Float32Array(PIXELS);
const hidden = new Float32Array(HIDDEN);
const dHidden = new Float32Array(HIDDEN);
const logits = new Float32Array(CLASSES);

/**
 * Forward pass over the non-zero pixels only: ~80 % of MNIST pixels are 0,
 * so iterating the sparse input makes both passes about 5x cheaper.
 * @param {Float32Array} x
 * @returns {number} number of non-zero pixels recorded in nzIndex/nzValue
 */
function forward(x) {
  let nnz = 0;
  for (let i = 0; i < PIXELS; i++) {
    if (x[i] !== 0) {
      nzIndex[nnz] = i;
      nzValue[nnz] = x[i];
      nnz++;
    }
  }
  hidden.set(b1);
  for (let k = 0; k < nnz; k++) {
    const v = nzValue[k];
    const row = nzIndex[k] * HIDDEN;
    for (let j = 0; j < HIDDEN; j++) hidden[j] += v * W1[row + j];
  }
  logits.set(b2);
  for (let j = 0; j < HIDDEN; j++) {
    if (hidden[j] <= 0) {
      hidden[j] = 0;
      continue;
    }
    const h = hidden[j];
    const row = j * CLASSES;
    for (let c = 0; c < CLASSES; c++) logits[c] += h * W2[row + c];
  }
  return nnz;
}

function argmax(values) {
  let best = 0;
  for (let c = 1; c < values.length; c++) if (values[c] > values[best]) best = c;
  return best;
}

/**
 * Accumulates the gradient of the mean cross-entropy for one sample.
 * @returns {number} the sample's loss
 */
function backward(nnz, label, scale) {
  // Subtracting the max keeps exp() finite for large logits.
  const max = logits[argmax(logits)];
  let sum = 0;
  for (let c = 0; c < CLASSES; c++) {
    logits[c] = Math.exp(logits[c] - max);
    sum += logits[c];
  }
  const loss = -Math.log(logits[label] / sum);
  // logits now becomes dLoss/dLogits = softmax - onehot (scaled to the batch mean).
  for (let c = 0; c < CLASSES; c++) logits[c] = (logits[c] / sum - (c === label ? 1 : 0)) * scale;
  for (let c = 0; c < CLASSES; c++) gb2[c] += logits[c];
  for (let j = 0; j < HIDDEN; j++) {
    const h = hidden[j];
    const row = j * CLASSES;
    if (h === 0) {
      // ReLU was inactive: no gradient flows to W2's row or to W1 through it.
      dHidden[j] = 0;
      continue;
    }
    let d = 0;
    for (let c = 0; c < CLASSES; c++) {
      gW2[row + c] += h * logits[c];
      d += W2[row + c] * logits[c];
    }
    dHidden[j] = d;
    gb1[j] += d;
  }
  for (let k = 0; k < nnz; k++) {
    const v = nzValue[k];
    const row = nzIndex[k] * HIDDEN;
    for (let j = 0; j < HIDDEN; j++) gW1[row + j] += v * dHidden[j];
  }
  return loss;
}

/** Translates a 28x28 image by (dx, dy), filling uncovered pixels with 0. */
function shift(src, dx, dy, dst) {
  dst.fill(0);
  for (let y = Math.max(0, dy); y < Math.min(IMAGE_SIZE, IMAGE_SIZE + dy); y++) {
    const srcRow = (y - dy) * IMAGE_SIZE - dx;
    const dstRow = y * IMAGE_SIZE;
    for (let x = Math.max(0, dx); x < Math.min(IMAGE_SIZE, IMAGE_SIZE + dx); x++) {
      dst[dstRow + x] = src[srcRow + x];
    }
  }
  return dst;
}

let adamStep = 0;
function adamUpdate(lr) {
  adamStep++;
  // Bias correction folded into the step size (Kingma & Ba, section 2).
  const stepSize = (lr * Math.sqrt(1 - BETA2 ** adamStep)) / (1 - BETA1 ** adamStep);
  for (let p = 0; p < params.length; p++) {
    const w = params[p];
    const g = grads[p];
    const m = adamM[p];
    const v = adamV[p];
    for (let i = 0; i < w.length; i++) {
      const gi = g[i];
      m[i] = BETA1 * m[i] + (1 - BETA1) * gi;
      v[i] = BETA2 * v[i] + (1 - BETA2) * gi * gi;
      w[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) + EPS);
    }
    g.fill(0);
  }
}

function jsAccuracy(samples) {
  let correct = 0;
  for (const { pixels, label } of samples) {
    forward(pixels);
    if (argmax(logits) === label) correct++;
  }
  return correct / samples.length;
}

/** Accuracy of the written file as onnxruntime computes it, i.e. what the server will see. */
async function onnxAccuracy(path, samples) {
  const session = await InferenceSession.create(path, { intraOpNumThreads: 1 });
  let correct = 0;
  const batch = 256;
  for (let start = 0; start < samples.length; start += batch) {
    const chunk = samples.slice(start, start + batch);
    const input = new Float32Array(chunk.length * PIXELS);
    chunk.forEach((s, i) => input.set(s.pixels, i * PIXELS));
    const { logits: out } = await session.run({ input: new Tensor('float32', input, [chunk.length, PIXELS]) });
    const data = /** @type {Float32Array} */ (out.data);
    chunk.forEach((s, i) => {
      if (argmax(data.subarray(i * CLASSES, (i + 1) * CLASSES)) === s.label) correct++;
    });
  }
  await session.release();
  return correct / samples.length;
}

const training = trainingSet();
const heldOut = heldOutSet();
const order = Array.from(training.keys());
const batchesPerEpoch = Math.ceil(training.length / BATCH);
const totalSteps = EPOCHS * batchesPerEpoch;

console.log(`training on ${training.length} digits, holding out ${heldOut.length}`);
const started = performance.now();
const cpuStart = process.cpuUsage();
for (let epoch = 1; epoch <= EPOCHS; epoch++) {
  shuffleInPlace(order, rand);
  let lossSum = 0;
  for (let b = 0; b < batchesPerEpoch; b++) {
    const lo = b * BATCH;
    const hi = Math.min(training.length, lo + BATCH);
    for (let k = lo; k < hi; k++) {
      const { pixels, label } = training[order[k]];
      const dx = Math.floor(rand() * (2 * MAX_SHIFT + 1)) - MAX_SHIFT;
      const dy = Math.floor(rand() * (2 * MAX_SHIFT + 1)) - MAX_SHIFT;
      const nnz = forward(dx === 0 && dy === 0 ? pixels : shift(pixels, dx, dy, shifted));
      lossSum += backward(nnz, label, 1 / (hi - lo));
    }
    const progress = (epoch - 1 + b / batchesPerEpoch) / EPOCHS;
    adamUpdate(LR_MAX * 0.5 * (1 + Math.cos(Math.PI * progress)));
  }
  if (epoch % 5 === 0 || epoch === EPOCHS) {
    console.log(
      `epoch ${String(epoch).padStart(2)}  loss ${(lossSum / training.length).toFixed(4)}` +
        `  held-out ${(100 * jsAccuracy(heldOut)).toFixed(2)}%`,
    );
  }
}
const cpu = process.cpuUsage(cpuStart);
console.log(
  `trained in ${((performance.now() - started) / 1000).toFixed(1)} s wall, ` +
    `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU (${totalSteps} Adam steps)`,
);

const bytes = buildModel({
  name: 'mnist_mlp',
  docString:
    'MNIST digit classifier (784-128-10 MLP). input: float32 [N, 784], a 28x28 grayscale image ' +
    'row-major with values in [0, 1], white digit on black background. output: logits float32 [N, 10] ' +
    '(argmax = digit; apply softmax for probabilities).',
  inputs: [valueInfo('input', 'FLOAT', ['N', PIXELS])],
  outputs: [valueInfo('logits', 'FLOAT', ['N', CLASSES])],
  initializers: [
    tensor('fc1.weight', W1, [PIXELS, HIDDEN]),
    tensor('fc1.bias', b1, [HIDDEN]),
    tensor('fc2.weight', W2, [HIDDEN, CLASSES]),
    tensor('fc2.bias', b2, [CLASSES]),
  ],
  nodes: [
    node('MatMul', ['input', 'fc1.weight'], ['fc1.matmul']),
    node('Add', ['fc1.matmul', 'fc1.bias'], ['fc1.out']),
    node('Relu', ['fc1.out'], ['relu1']),
    node('MatMul', ['relu1', 'fc2.weight'], ['fc2.matmul']),
    node('Add', ['fc2.matmul', 'fc2.bias'], ['logits']),
  ],
});
await writeModel(OUTPUT, bytes);
console.log(`wrote ${OUTPUT} (${bytes.length} bytes)`);

const accuracy = await onnxAccuracy(OUTPUT, heldOut);
console.log(`held-out accuracy (onnxruntime, ${heldOut.length} digits): ${(100 * accuracy).toFixed(2)}%`);
// The server's tests assert >= 95 %; refuse to ship a model without margin.
if (accuracy < 0.97) {
  console.error('held-out accuracy below 97 %');
  process.exitCode = 1;
}
