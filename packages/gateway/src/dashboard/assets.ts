import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ModelServerError } from '@model-server/protocol';
import { DASHBOARD_ASSETS } from './asset-paths.js';

/** Where `scripts/build-dashboard.mjs` writes the bundled page: beside the compiled gateway. */
const ASSET_DIR = new URL('../dashboard-ui/', import.meta.url);

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The page's files, read from the package on first use and kept (they are built with the package and
 * never change while it runs). Nothing is fetched from anywhere else, at build time or at run time.
 */
export class DashboardAssets {
  private readonly cache = new Map<string, Promise<Asset>>();

  get(path: string): Promise<Asset> | undefined {
    const spec = DASHBOARD_ASSETS[path];
    if (!spec) return undefined;
    let asset = this.cache.get(path);
    if (!asset) {
      asset = readFile(new URL(spec.file, ASSET_DIR)).then(
        (body) => ({ body, type: spec.type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }),
        (err: NodeJS.ErrnoException) => {
          this.cache.delete(path);
          throw new ModelServerError('INTERNAL', {
            message: `The dashboard is not built (${err.code ?? err.message} reading ${spec.file}); run npm run build`,
          });
        },
      );
      this.cache.set(path, asset);
    }
    return asset;
  }
}
