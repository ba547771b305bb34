import { existsSync, mkdirSync } from 'node:fs';
import { exportPrivatePem, generateX25519, importPrivatePem, type X25519KeyPair } from '../../../agent/src/protocol/channel-crypto.js';
import { readSecretFile, writeSecretFile, type SecretStore } from '../config/secrets.js';

/** File name of the appliance's X25519 key in the secrets directory. */
export const SERVER_KEY_FILE = 'agent-channel-x25519.pem';

/**
 * The appliance's X25519 key pair for the agent channel, kept 0600 in the secrets
 * directory (refused with any wider mode). Created on first use when absent — the
 * installer normally creates it — and cached for the process.
 */
export class ServerKeyProvider {
  private cached: X25519KeyPair | undefined;
  constructor(private readonly secrets: SecretStore) {}

  get(): X25519KeyPair {
    if (this.cached) return this.cached;
    const path = this.secrets.path(SERVER_KEY_FILE);
    if (!existsSync(path)) {
      mkdirSync(this.secrets.dir, { recursive: true, mode: 0o700 });
      try {
        writeSecretFile(path, exportPrivatePem(generateX25519().privateKey));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    this.cached = importPrivatePem(readSecretFile(path));
    return this.cached;
  }
}
