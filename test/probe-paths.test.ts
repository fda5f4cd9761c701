import { isProbeRequest } from '@model-server/gateway';
import { describe, expect, it } from 'vitest';

describe('isProbeRequest (what token authorization lets through for Kubernetes probes)', () => {
  it.each([
    ['GET', '/v2/health/live'],
    ['GET', '/v2/health/ready'],
    ['HEAD', '/v2/health/ready?verbose=1'],
    ['GET', '/v2/models/mnist/ready'],
    ['GET', '/v2/models/mnist/versions/1.0/ready'],
    ['GET', '/v1/models/mnist'],
    ['GET', '/v1/models/mnist/versions/1.0'],
    ['GET', '/'],
    ['HEAD', '/'],
  ])('lets %s %s through', (method, url) => {
    expect(isProbeRequest(method, url)).toBe(true);
  });

  it.each([
    ['POST', '/v2/health/ready'],
    ['GET', '/v2'],
    ['GET', '/v2/models/mnist'],
    ['POST', '/v2/models/mnist/infer'],
    ['GET', '/v2/models/mnist/config'],
    ['GET', '/v1/models'],
    ['POST', '/v1/models/mnist:predict'],
    ['GET', '/v1/models/mnist:predict'],
    ['GET', '/predictions/mnist'],
    ['GET', '/ping'],
    ['POST', '/'],
  ])('keeps %s %s behind the token', (method, url) => {
    expect(isProbeRequest(method, url)).toBe(false);
  });
});
