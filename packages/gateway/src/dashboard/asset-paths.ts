/** The page, served on the management port. */
export const DASHBOARD_PATH = '/dashboard';

/** The built files of the page (under dist/dashboard-ui/), by the path they are served at. */
export const DASHBOARD_ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/dashboard/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

/**
 * Paths a browser loads before it can present a key (a navigation carries no Authorization header).
 * They are static files that hold no data; every figure comes from `/status`, which needs the key.
 */
export const DASHBOARD_OPEN_PATHS: readonly string[] = [DASHBOARD_PATH, ...Object.keys(DASHBOARD_ASSETS)];
