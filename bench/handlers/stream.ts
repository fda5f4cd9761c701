/**
 * Bench handler (d): streams `handler.chunks` lines (`chunk <i>\n`) as fast as the transport takes
 * them, then `done\n`. Clients count newlines, so TCP coalescing cannot skew the chunk count.
 */
import { BaseHandler, sendIntermediatePredictResponse, type Context, type HandlerRequest } from '@model-server/sdk';

export default class StreamHandler extends BaseHandler<HandlerRequest[], string[]> {
  override preprocess(data: HandlerRequest[]): HandlerRequest[] {
    return data;
  }

  override async inference(data: HandlerRequest[], context: Context): Promise<string[]> {
    const chunks = Number(context.handlerConfig['chunks'] ?? 16);
    for (let i = 0; i < chunks; i++) {
      await sendIntermediatePredictResponse(data.map(() => `chunk ${i}\n`), context);
    }
    return data.map(() => 'done\n');
  }
}
