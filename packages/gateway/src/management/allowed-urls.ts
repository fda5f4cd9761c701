import { ModelServerError } from '@model-server/protocol';
import type { NormalizedUrl } from './model-url.js';

/**
 * TorchServe's `allowed_urls`: comma-separated regular expressions, each matched against the whole
 * URL. Compiled once at start so that a bad pattern fails the start, not a registration.
 */
export class AllowedUrls {
  private readonly patterns: RegExp[];

  constructor(spec: string) {
    this.patterns = spec
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '')
      .map((p) => {
        try {
          return new RegExp(`^(?:${p})$`);
        } catch (cause) {
          throw new ModelServerError('CONFIG_INVALID', { file: 'allowed_urls', reason: `bad pattern "${p}": ${(cause as Error).message}` }, { cause });
        }
      });
  }

  /** Patterns are matched against the normalized URL, the one that is fetched (model-url.ts). */
  allows(url: NormalizedUrl): boolean {
    return this.patterns.some((p) => p.test(url));
  }

  /** Throws URL_NOT_ALLOWED (404, TorchServe's status) unless some pattern matches. */
  check(url: NormalizedUrl): void {
    if (!this.allows(url)) throw new ModelServerError('URL_NOT_ALLOWED', { url });
  }
}
