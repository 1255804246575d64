/**
 * Where inbound EDUs go: the services that own each EDU type (typing, receipts, presence, device
 * lists, to-device, signing keys) register a handler; unknown types are ignored, as the spec asks.
 */
import type { JsonObject } from '../../src/core/json.js';
import type { Logger } from '../../src/logger.js';

/** `origin` is the verified server the transaction came from. */
export type EduHandler = (origin: string, content: JsonObject) => Promise<void> | void;

export class EduRegistry {
  private readonly handlers = new Map<string, EduHandler[]>();

  constructor(private readonly logger: Logger) {}

  registerEduHandler(eduType: string, handler: EduHandler): void {
    const list = this.handlers.get(eduType) ?? [];
    list.push(handler);
    this.handlers.set(eduType, list);
  }

  /** Runs the handlers of one EDU; a failing handler is logged, never fails the transaction. */
  async dispatch(origin: string, eduType: string, content: JsonObject): Promise<void> {
    for (const h of this.handlers.get(eduType) ?? []) {
      try {
        await h(origin, content);
      } catch (err) {
        this.logger.warn({ err, origin, eduType }, 'EDU handler failed');
      }
    }
  }
}
