import { join } from 'node:path';
import { BaseHandler, openSession, readOnnxOptions, sessionMetadata, type Context } from '@model-server/sdk';
import type { InferenceSession } from 'onnxruntime-node';
import { sessionRunner, type SessionRunner } from './session-runner.js';

/**
 * What the det and rec handlers share: one session on the archive's model file, opened with the
 * model's `onnx:` settings, its signature for the Open Inference Protocol, and its release at exit.
 * (Not the SDK's OnnxHandler: these stages pool a batch their own way.)
 */
export abstract class SessionHandler<Pre, Out> extends BaseHandler<Pre, Out> {
  protected session!: InferenceSession;
  protected run!: SessionRunner;

  override async initialize(context: Context): Promise<void> {
    await super.initialize(context);
    const file = context.manifest.model.serializedFile;
    if (!file) throw new Error('the archive has no serialized file (--serialized-file)');
    this.session = await openSession(join(context.modelDir, file), readOnnxOptions(context.modelConfig));
    this.run = sessionRunner(this.session);
  }

  metadata(): ReturnType<typeof sessionMetadata> {
    return sessionMetadata(this.session);
  }

  override async close(): Promise<void> {
    await this.session?.release();
  }
}
