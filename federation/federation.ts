/**
 * The federation services of a running server, built once with the app context: the outbound
 * client, the key ring (ours and other servers' keys) and inbound server ACL checks.
 */
import type { Config } from '../src/config/config.js';
import { decodeBase64 } from '../src/core/base64.js';
import type { SigningKey } from '../src/core/signing.js';
import type { Logger } from '../src/logger.js';
import type { Storage } from '../src/storage/storage.js';
import { FederationClient, type FederationClientDeps } from './client/federation-client.js';
import { ServerAcls } from './http/server-acls.js';
import { ServerKeyRing } from './keys/server-key-ring.js';

export interface FederationDeps {
  config: Config;
  signingKey: SigningKey;
  storage: Storage;
  logger: Logger;
  now: () => number;
  /** Tests: a DNS SRV resolver that never leaves the machine. */
  resolveSrv?: FederationClientDeps['resolveSrv'];
}

export class Federation {
  readonly serverName: string;
  readonly client: FederationClient;
  readonly keyRing: ServerKeyRing;
  readonly acl: ServerAcls;

  constructor(d: FederationDeps) {
    const fed = d.config.federation;
    this.serverName = d.config.server_name;
    this.client = new FederationClient({
      serverName: this.serverName,
      signingKey: d.signingKey,
      config: fed,
      logger: d.logger,
      now: d.now,
      resolveSrv: d.resolveSrv,
    });
    this.keyRing = new ServerKeyRing({
      serverName: this.serverName,
      signingKey: d.signingKey,
      oldKeys: Object.entries(fed.old_signing_keys).map(([keyId, k]) => ({
        keyId,
        publicKey: decodeBase64(k.key),
        expiredTs: k.expired_ts,
      })),
      keyValidityMs: fed.key_validity_ms,
      store: d.storage.serverKeys,
      transport: this.client,
      notaries: fed.trusted_key_servers.map((n) => ({
        serverName: n.server_name,
        verifyKeys: Object.entries(n.verify_keys).map(([keyId, key]) => ({ keyId, publicKey: decodeBase64(key) })),
      })),
      now: d.now,
      logger: d.logger,
    });
    this.acl = new ServerAcls(d.storage.events);
  }

  close(): void {
    this.client.close();
  }
}
