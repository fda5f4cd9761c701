import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ModelServerError } from '@model-server/protocol';

/** PEM key and certificate chain, as node:https, node:tls and @grpc/grpc-js take them. */
export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
}

/** The config keys TLS reads (TorchServe's names). */
export interface TlsKeys {
  readonly private_key_file: string;
  readonly certificate_file: string;
}

/** Whether a listener address asks for TLS. */
export function isHttpsAddress(address: string): boolean {
  return /^https:\/\//i.test(address);
}

/**
 * What to do instead of TorchServe's Java keystore: the openssl commands that turn it into the two PEM
 * files this server reads (a JKS store is first converted to PKCS12 with keytool).
 */
export function keystoreAdvice(keystore: string): string {
  const store = keystore || 'keystore.p12';
  const p12 = /\.jks$/i.test(store) ? store.replace(/\.jks$/i, '.p12') : store;
  const jks = p12 === store ? '' : `keytool -importkeystore -srckeystore ${store} -destkeystore ${p12} -deststoretype PKCS12; then `;
  return (
    'Java keystores are not supported; convert it to PEM files with: ' +
    `${jks}openssl pkcs12 -in ${p12} -nodes -nocerts -out key.pem && openssl pkcs12 -in ${p12} -nodes -clcerts -nokeys -out cert.pem ` +
    '(add -legacy for stores made by older Java), then set private_key_file=key.pem and certificate_file=cert.pem'
  );
}

function invalid(key: string, reason: string, cause?: unknown): ModelServerError {
  return new ModelServerError('CONFIG_INVALID', { file: key, reason }, cause === undefined ? undefined : { cause });
}

function readPem(key: keyof TlsKeys, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw invalid(key, `cannot read ${key} ${path}: ${(cause as Error).message}`, cause);
  }
}

/**
 * Reads and checks the PEM private key and certificate (chain) named by `private_key_file` and
 * `certificate_file`, for `purpose` (the address or server that needs them). Either one missing,
 * unreadable, not PEM, or the two not belonging together stops start-up with CONFIG_INVALID naming the
 * key. Returns undefined when TLS is not asked for (`required` false and neither key set).
 */
export function loadTlsMaterial(config: TlsKeys, purpose: string, required = true): TlsMaterial | undefined {
  const keyFile = config.private_key_file;
  const certFile = config.certificate_file;
  if (!required && !keyFile && !certFile) return undefined;
  for (const [name, value] of [['private_key_file', keyFile], ['certificate_file', certFile]] as const) {
    if (!value) throw invalid(name, `${purpose} needs TLS, but ${name} is not set (PEM file)`);
  }
  const key = readPem('private_key_file', keyFile);
  const cert = readPem('certificate_file', certFile);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (cause) {
    throw invalid('private_key_file', `${keyFile} is not a PEM private key (an encrypted key is not supported): ${(cause as Error).message}`, cause);
  }
  let x509;
  try {
    x509 = new X509Certificate(cert);
  } catch (cause) {
    throw invalid('certificate_file', `${certFile} is not a PEM certificate: ${(cause as Error).message}`, cause);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw invalid('certificate_file', `the certificate in ${certFile} does not belong to the key in private_key_file ${keyFile}`);
  }
  return { key, cert };
}
