/**
 * The OCR workflow's function node: `crop`, between the det and rec models, is the crop node's own
 * `handle` and `initialize` (../crop/handler.ts), exported under the node's name.
 */
import { handle, initialize } from '../crop/handler.js';

export const crop = { initialize, handle };
