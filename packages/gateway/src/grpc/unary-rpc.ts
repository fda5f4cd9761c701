import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import type { KeyKind } from '../auth/token-store.js';
import { refusedToken } from './auth.js';
import type { GrpcDeps } from './grpc-deps.js';
import { MalformedMessage } from './malformed.js';
import { grpcStatusOf } from './status.js';

/**
 * A unary rpc whose answer is computed from the request alone: the token check (`key`, none for
 * probes), a malformed request, and any throw become the call's status.
 */
export function unaryRpc<Req, Res>(deps: GrpcDeps, key: KeyKind | undefined, answer: (request: Req) => Res | Promise<Res>) {
  return (call: ServerUnaryCall<Req | MalformedMessage, Res>, callback: sendUnaryData<Res>): void => {
    const run = async (): Promise<Res> => {
      const denied = key && refusedToken(deps.ctx.tokens, call.metadata, key);
      if (denied) throw denied;
      if (call.request instanceof MalformedMessage) throw call.request.error();
      return answer(call.request);
    };
    run().then(
      (response) => callback(null, response),
      (err: unknown) => callback(grpcStatusOf(err)),
    );
  };
}

