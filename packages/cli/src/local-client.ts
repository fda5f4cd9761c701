import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

export interface LocalResponse {
  status: number;
  body: string;
}

export interface LocalClientOptions {
  /** The server's PEM certificate (chain): trusted, with the system's roots, for https:// addresses. */
  certificateFile?: string | undefined;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** A wildcard listen address, reached over loopback. */
function reachable(address: string): URL {
  const url = new URL(address);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  return url;
}

/**
 * A GET from the CLI to the server it manages. Over https the server's certificate is verified against
 * its own certificate file and the system roots; its host name is not, since the CLI reaches the server
 * over loopback while the certificate names the host clients use.
 */
export function localGet(address: string, path: string, options: LocalClientOptions = {}): Promise<LocalResponse> {
  const url = new URL(path, reachable(address));
  const tls = url.protocol === 'https:';
  const ca = tls && options.certificateFile ? [readFileSync(options.certificateFile, 'utf8'), ...rootCertificates] : undefined;
  return new Promise((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(
      url,
      {
        method: 'GET',
        headers: options.headers ?? {},
        timeout: options.timeoutMs ?? 2000,
        ...(tls ? { ca, checkServerIdentity: () => undefined } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} in ${options.timeoutMs ?? 2000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** The HTTP status of GET /ping, or undefined when the server does not answer. */
export async function pingStatus(address: string, certificateFile: string | undefined): Promise<number | undefined> {
  try {
    return (await localGet(address, '/ping', { certificateFile })).status;
  } catch {
    return undefined;
  }
}
