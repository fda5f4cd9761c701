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

/** Longest form field name taken; busboy would silently cut longer ones (default 100 bytes). */
const MAX_FIELD_NAME_BYTES = 1024;
const MAX_PARTS = 10_000;

function badForm(reason: string): ModelServerError {
  return new ModelServerError('BAD_REQUEST', { reason: `Invalid form body: ${reason}` });
}

/**
 * A multipart or urlencoded body as inputs. Every way the body can go wrong ends in exactly one
 * rejection: the parser's errors, a part's stream error (a body cut off inside a file part, which busboy
 * reports on the part's stream, not on the parser), the request's own error or its connection closing
 * early, a part without a name, or a limit busboy would otherwise apply silently (parts count, name size).
 */
function readForm(req: IncomingMessage, maxBytes: number): Promise<InferenceInput[]> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fileSize: maxBytes, fieldSize: maxBytes, parts: MAX_PARTS, fieldNameSize: MAX_FIELD_NAME_BYTES },
      });
    } catch (cause) {
      reject(new ModelServerError('BAD_REQUEST', { reason: `Invalid form body: ${(cause as Error).message}` }, { cause }));
      return;
    }
    // Parts land in arrival order, including several with the same name: none is dropped or merged.
    const inputs: InferenceInput[] = [];
    let total = 0;
    let settled = false;
    const fail = (err: ModelServerError): void => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      discardRest(req);
      reject(err);
    };
    const tooLarge = (): void => fail(new ModelServerError('REQUEST_TOO_LARGE', { limit: maxBytes }));
    const checkName = (name: string | undefined, truncated: boolean): boolean => {
      if (truncated) fail(badForm(`a part name is longer than ${MAX_FIELD_NAME_BYTES} bytes`));
      else if (typeof name !== 'string' || name === '') fail(badForm('every part needs a name (Content-Disposition: form-data; name="...")'));
      return !settled;
    };
    let pending = 0;
    let finished = false;
    const maybeDone = (): void => {
      if (finished && pending === 0 && !settled) {
        settled = true;
        resolve(inputs);
      }
    };
    parser.on('field', (name, value, info) => {
      if (settled || !checkName(name, info.nameTruncated)) return;
      total += Buffer.byteLength(value);
      if (info.valueTruncated || total > maxBytes) return tooLarge();
      inputs.push({ name, contentType: 'text/plain; charset=utf-8', data: Buffer.from(value) });
    });
    parser.on('file', (name, stream, info) => {
      // The stream must always be read and always have an error listener, whatever happens to the form.
      stream.on('error', (err: Error) => fail(badForm(err.message)));
      if (settled || !checkName(name, false)) {
        stream.resume();
        return;
      }
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
    const tooMany = (): void => fail(badForm(`more than ${MAX_PARTS} parts`));
    parser.on('partsLimit', tooMany);
    parser.on('filesLimit', tooMany);
    parser.on('fieldsLimit', tooMany);
    parser.on('error', (err: Error) => fail(badForm(err.message)));
    parser.on('close', () => {
      finished = true;
      maybeDone();
    });
    req.on('error', (err: Error) => fail(badForm(`the request failed while being read (${err.message})`)));
    // A connection that closes before the form ended (the parser then never finishes).
    req.on('close', () => {
      if (!req.complete) fail(badForm('the request ended before the form did'));
    });
    req.pipe(parser);
  });
}

export type InputsCallback = (err: unknown, inputs?: InferenceInput[]) => void;

/** The error for a body whose declared length is over the limit, found from the headers alone. */
function declaredTooLarge(req: IncomingMessage, maxBytes: number): ModelServerError | undefined {
  const declared = Number(req.headers['content-length'] ?? 0);
  return declared > maxBytes ? new ModelServerError('REQUEST_TOO_LARGE', { limit: maxBytes }) : undefined;
}

/**
 * The raw body, whatever its content type, for routes that parse it themselves: refused with 413 from
 * the headers when declared too large, or as soon as the excess arrives. `done` is called exactly once.
 */
export function readBody(req: IncomingMessage, maxBytes: number, done: (err: unknown, data?: Uint8Array) => void): void {
  const tooLarge = declaredTooLarge(req, maxBytes);
  if (tooLarge) {
    discardRest(req);
    done(tooLarge);
    return;
  }
  readRaw(req, maxBytes, '', (err, inputs) => done(err, inputs?.[0]?.data));
}

/**
 * The request body as named inputs: form fields and files by field name (in order, duplicates kept),
 * or the raw body as the single input `body`. Bodies over `maxBytes` are refused with 413 as soon
 * as the excess is seen (at once when Content-Length says so). `done` is called exactly once.
 */
export function readInputs(req: IncomingMessage, maxBytes: number, done: InputsCallback): void {
  const tooLarge = declaredTooLarge(req, maxBytes);
  if (tooLarge) {
    discardRest(req);
    done(tooLarge);
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
