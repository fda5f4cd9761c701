import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Tests run the built packages (real worker and CLI processes start from dist/), so they build first:
 * `tsc -b` is incremental and takes a second when nothing changed, and a stale dist/ can never be
 * what a test measured after an edit.
 */
export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], { cwd: root, stdio: 'inherit' });
  // The status page's bundle is built by esbuild, not tsc.
  execFileSync(process.execPath, [join(root, 'scripts', 'build-dashboard.mjs')], { cwd: root, stdio: 'inherit' });
}
