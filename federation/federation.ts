/**
 * The federation services of a running server, built once with the app context: the outbound
 * client, the key ring (ours and other servers' keys), inbound server ACL checks, the outbound
 * sender (fed by the event pipeline), inbound transactions and the EDU handler registry.
 */
import type { Config } from '../src/config/config.js';
import { decodeBase64 } from '../src/core/base64.js';
import type { SigningKey } from '../src/core/signing.js';
import type { Logger } from '../src/logger.js';
import type { EventPipeline } from '../src/room-engine/event-pipeline.js';
import type { Storage } from '../src/storage/storage.js';
import { FederationClient, type FederationClientDeps } from './client/federation-client.js';
import { ServerAcls } from './http/server-acls.js';
import { type EduHandler, EduRegistry } from './edu/edu-registry.js';
import { TransactionHandler } from './inbound/transaction-handler.js';
import { ServerKeyRing } from './keys/server-key-ring.js';
import { FederationSender } from './sender/federation-sender.js';
import { DeviceKeysService } from './users/device-keys.js';
import { RemoteProfiles } from './users/remote-profiles.js';

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
  readonly edus: EduRegistry;
  readonly sender: FederationSender;
  /** Local users' devices and end-to-end keys as other servers see them (the E2EE module plugs its keys in). */
  readonly deviceKeys: DeviceKeysService;
  /** Profiles of other servers' users (client API profile lookups), cached briefly. */
  readonly profiles: RemoteProfiles;
  private transactionHandler: TransactionHandler | undefined;

  constructor(private readonly d: FederationDeps) {
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
    this.edus = new EduRegistry(d.logger);
    this.deviceKeys = new DeviceKeysService(this.serverName, d.storage.devices, (userId) => d.storage.deviceLists.lastChangeFor(userId));
    this.profiles = new RemoteProfiles({ transport: this.client, now: d.now, logger: d.logger });
    this.sender = new FederationSender({
      serverName: this.serverName,
      queue: d.storage.federationQueue,
      events: d.storage.events,
      client: this.client,
      logger: d.logger,
      now: d.now,
    });
  }

  /** Connects federation to the room engine: local events go out, inbound PDUs come in through `pipeline`. */
  attachPipeline(pipeline: EventPipeline): void {
    pipeline.onPersisted(this.sender.onPersisted);
    this.transactionHandler = new TransactionHandler({
      serverName: this.serverName,
      pipeline,
      events: this.d.storage.events,
      txns: this.d.storage.inboundTxns,
      edus: this.edus,
      acl: this.acl,
      client: this.client,
      logger: this.d.logger,
      now: this.d.now,
    });
  }

  get transactions(): TransactionHandler {
    if (!this.transactionHandler) throw new Error('federation is not attached to the event pipeline');
    return this.transactionHandler;
  }

  /** For the services that own EDU types (typing, receipts, presence, device lists, to-device, …). */
  registerEduHandler(eduType: string, handler: EduHandler): void {
    this.edus.registerEduHandler(eduType, handler);
  }

  /** Starts sending what is queued (call once the server is up). */
  async start(): Promise<void> {
    await this.sender.start();
  }

  close(): void {
    this.sender.stop();
    this.client.close();
  }
}
