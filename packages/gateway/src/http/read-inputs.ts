import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { ModelServerError, type InferenceInput } from '@model-server/protocol';

function isForm(contentType: string): boolean {
  return /^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(contentType);
}

/** Stops reading but keeps the connection usable: the rest of the body is drained and discarded. */
function discardRest(req: IncomingMessage): void {
  req.removeAllListeners('data');
  req.unpipe();
  req.resume();
}

/** Callback style: the hot path spares a promise and an async step per request. */
function readRaw(req: IncomingMessage, maxBytes: number, contentType: string, done: InputsCallback): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.byteLength;
    if (size > maxBytes) {
      discardRest(req);
      settled = true;
      done(new ModelServerError('REQUEST_TOO_LARGE', { limit: maxBytes }));
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (settled) return;
    settled = true;
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    done(undefined, [{ name: 'body', contentType: contentType || 'application/octet-stream', data }]);
  });
  req.on('error', (err) => {
    if (settled) return;
    settled = true;
    done(err);
  });
}

function readForm(req: IncomingMessage, maxBytes: number): Promise<InferenceInput[]> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: maxBytes, fieldSize: maxBytes, parts: 10_000 } });
    } catch (cause) {
      reject(new ModelServerError('BAD_REQUEST', { reason: `Invalid form body: ${(cause as Error).message}` }, { cause }));
      return;
    }
    // Parts land in arrival order, including several with the same name: none is dropped or merged.
    const inputs: InferenceInput[] = [];
    let total = 0;
    let failed = false;
    const fail = (err: ModelServerError): void => {
      if (failed) return;
      failed = true;
      discardRest(req);
      reject(err);
    };
    const tooLarge = (): void => fail(new ModelServerError('REQUEST_TOO_LARGE', { limit: maxBytes }));
    let pending = 0;
    let finished = false;
    const maybeDone = (): void => {
      if (finished && pending === 0 && !failed) resolve(inputs);
    };
    parser.on('field', (name, value, info) => {
      total += Buffer.byteLength(value);
      if (info.valueTruncated || total > maxBytes) return tooLarge();
      inputs.push({ name, contentType: 'text/plain; charset=utf-8', data: Buffer.from(value) });
    });
    parser.on('file', (name, stream, info) => {
      const slot = inputs.length;
      inputs.push({ name, contentType: info.mimeType || 'application/octet-stream', data: new Uint8Array(0) });
      const chunks: Buffer[] = [];
      pending++;
      stream.on('data', (chunk: Buffer) => {
        total += chunk.byteLength;
        if (total > maxBytes) {
          stream.resume();
          tooLarge();
          return;
        }
        chunks.push(chunk);
      });
      stream.on('limit', tooLarge);
      stream.on('end', () => {
        inputs[slot] = { ...inputs[slot]!, data: Buffer.concat(chunks) };
        pending--;
        maybeDone();
      });
    });
    parser.on('error', (err: Error) => fail(new ModelServerError('BAD_REQUEST', { reason: `Invalid form body: ${err.message}` })));
    parser.on('close', () => {
      finished = true;
      maybeDone();
    });
    req.pipe(parser);
  });
}

export type InputsCallback = (err: unknown, inputs?: InferenceInput[]) => void;

/**
 * The request body as named inputs: form fields and files by field name (in order, duplicates kept),
 * or the raw body as the single input `body`. Bodies over `maxBytes` are refused with 413 as soon
 * as the excess is seen (at once when Content-Length says so). `done` is called exactly once.
 */
export function readInputs(req: IncomingMessage, maxBytes: number, done: InputsCallback): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    discardRest(req);
    done(new ModelServerError('REQUEST_TOO_LARGE', { limit: maxBytes }));
    return;
  }
  const contentType = req.headers['content-type'] ?? '';
  if (!isForm(contentType)) {
    readRaw(req, maxBytes, contentType, done);
    return;
  }
  readForm(req, maxBytes).then((inputs) => done(undefined, inputs), done);
}

/** `readInputs` as a promise, for routes off the hot path. */
export function readInputsAsync(req: IncomingMessage, maxBytes: number): Promise<InferenceInput[]> {
  return new Promise((resolve, reject) => {
    readInputs(req, maxBytes, (err, inputs) => (err === undefined ? resolve(inputs!) : reject(err)));
  });
}
