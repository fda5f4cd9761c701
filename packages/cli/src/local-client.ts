import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export interface LocalResponse {
  status: number;
  body: string;
}

export interface LocalClientOptions {
  /** The server's PEM certificate (chain): for https:// addresses, the certificate it must present. */
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

/** SHA-256 fingerprint of the first certificate in a PEM file (the server's own, before its chain). */
function fingerprintOf(file: string): string {
  return new X509Certificate(readFileSync(file)).fingerprint256;
}

/**
 * A TLS connection to a server that must present exactly the certificate of its certificate_file,
 * checked before any byte of a request (keys included) is sent. The CLI reaches its server over
 * loopback, where the name in the certificate, or a private CA the CLI may not trust, proves no more
 * than the pin does.
 */
function pinnedConnection(url: URL, fingerprint: string, timeoutMs: number): Promise<TLSSocket> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host, port: Number(url.port || 443), rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake with ${url.origin} in ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const presented = socket.getPeerCertificate().fingerprint256;
      if (presented === fingerprint) resolve(socket);
      else {
        socket.destroy();
        reject(new Error(`${url.origin} presented a certificate other than its certificate_file's`));
      }
    });
  });
}

/**
 * A GET from the CLI to the server it manages. Over https with a known certificate file the server's
 * certificate is pinned (pinnedConnection); without one, the system's roots and the host name are
 * checked as usual.
 */
export async function localGet(address: string, path: string, options: LocalClientOptions = {}): Promise<LocalResponse> {
  const url = new URL(path, reachable(address));
  const timeoutMs = options.timeoutMs ?? 2000;
  const tls = url.protocol === 'https:';
  const pinned = tls && options.certificateFile ? await pinnedConnection(url, fingerprintOf(options.certificateFile), timeoutMs) : undefined;
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    };
    const common = { method: 'GET', headers: { ...(options.headers ?? {}), connection: 'close' }, timeout: timeoutMs };
    const req: ClientRequest = pinned
      ? httpsRequest(url, { ...common, createConnection: () => pinned }, onResponse)
      : (tls ? httpsRequest : httpRequest)(url, common, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} in ${timeoutMs} ms`)));
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
