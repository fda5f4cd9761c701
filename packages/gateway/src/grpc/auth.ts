import type { Metadata } from '@grpc/grpc-js';
import { ModelServerError } from '@model-server/protocol';
import { tokenFromAuthorization } from '../auth/token-guard.js';
import type { KeyKind, TokenStore } from '../auth/token-store.js';

/**
 * Token authorization on gRPC: metadata `authorization: Bearer <key>`, the same keys and check as the
 * REST APIs. A missing or wrong key is UNAUTHORIZED, answered as UNAUTHENTICATED (TorchServe says
 * PERMISSION_DENIED; UNAUTHENTICATED is gRPC's code for bad credentials, as 401 is HTTP's).
 * `tokens` undefined means authorization is off.
 */
export function refusedToken(tokens: TokenStore | undefined, metadata: Metadata, kind: KeyKind): ModelServerError | undefined {
  if (!tokens) return undefined;
  const value = metadata.get('authorization')[0];
  const token = typeof value === 'string' ? tokenFromAuthorization(value) : undefined;
  return tokens.verify(kind, token) ? undefined : new ModelServerError('UNAUTHORIZED');
}
