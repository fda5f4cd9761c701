import type { ServiceDefinition } from '@grpc/grpc-js';
import { ModelServerError } from '@model-server/protocol';

/**
 * A request whose bytes did not parse as its message. grpc-js would answer INTERNAL "Error deserializing
 * request"; the wrapped deserializers hand this to the handler instead, which answers INVALID_ARGUMENT
 * (in band on a bidirectional stream, which then carries on).
 */
export class MalformedMessage {
  constructor(readonly reason: string) {}

  error(): ModelServerError {
    return new ModelServerError('BAD_REQUEST', { reason: `Malformed request message: ${this.reason}` });
  }
}

/** The service with every request deserializer wrapped so that a parse failure becomes a MalformedMessage. */
export function tolerantService(definition: ServiceDefinition): ServiceDefinition {
  const out: Record<string, ServiceDefinition[string]> = {};
  for (const [name, method] of Object.entries(definition)) {
    const parse = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return parse(bytes);
        } catch (err) {
          return new MalformedMessage((err as Error).message);
        }
      },
    };
  }
  return out as ServiceDefinition;
}
