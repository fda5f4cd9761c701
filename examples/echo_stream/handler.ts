/**
 * Streams four `hello` chunks and then `world `, so a client joining the chunks with spaces reads
 * `hello hello hello hello world `. Stops early when the request is cancelled.
 */
import { BaseHandler, sendIntermediatePredictResponse, type Context, type HandlerRequest } from '@model-server/sdk';

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

export default class EchoStreamHandler extends BaseHandler<HandlerRequest[], string[]> {
  override preprocess(data: HandlerRequest[]): HandlerRequest[] {
    return data;
  }

  override async inference(data: HandlerRequest[], context: Context): Promise<string[]> {
    const delayMs = Number(context.handlerConfig['chunkDelayMs'] ?? 10);
    for (let i = 0; i < 4; i++) {
      await sendIntermediatePredictResponse(data.map(() => 'hello'), context);
      await pause(delayMs, context.signal);
    }
    return data.map(() => 'world ');
  }
}
