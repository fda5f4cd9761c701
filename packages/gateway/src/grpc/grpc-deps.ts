import type { AllowedUrls } from '../management/allowed-urls.js';
import type { ManagementContext } from '../management/management-context.js';

/** What the gRPC services need of the gateway: the same context as the REST APIs. */
export interface GrpcDeps {
  ctx: ManagementContext;
  /** `allowed_urls`, compiled once, for registrations. */
  allowed: AllowedUrls;
}
