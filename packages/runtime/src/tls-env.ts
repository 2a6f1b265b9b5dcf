import fs from 'node:fs';
import { EnvError, envInt } from './env.js';

/** An HTTPS listener: PEM certificate chain and key, and where to listen. */
export interface TlsListen {
  cert: Buffer;
  key: Buffer;
  port: number;
  host?: string;
}

/**
 * HTTPS from the environment: `TLS_CERT_FILE` and `TLS_KEY_FILE` (PEM; both or neither) and
 * `HTTPS_PORT` (default `defaultPort`; 0 picks a free one). Undefined when no certificate is set.
 * A file that cannot be read stops the service at start with the file named (never its content).
 */
export function readTlsEnv(env: NodeJS.ProcessEnv, defaultPort: number): TlsListen | undefined {
  const certFile = env.TLS_CERT_FILE ?? '';
  const keyFile = env.TLS_KEY_FILE ?? '';
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new EnvError('TLS_CERT_FILE and TLS_KEY_FILE must be set together');
  const read = (name: string, file: string): Buffer => {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      throw new EnvError(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  return {
    cert: read('TLS_CERT_FILE', certFile),
    key: read('TLS_KEY_FILE', keyFile),
    port: envInt(env, 'HTTPS_PORT', defaultPort),
  };
}
