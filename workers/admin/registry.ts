import { GatewayError } from "../../shared/errors.ts";
import type { Database } from "../db/client.ts";
import { setPinned } from "../drift/state.ts";
import { type ActiveChange, listVersions, type Promotion, promote, rollbackTier } from "../registry/store.ts";
import { type Actor, appendAudit } from "./audit.ts";

/** How a change of a tier's active version is made: straight on Postgres (CLI) or through a worker's router. */
export interface RegistryChanges {
  promote(change: Promotion): Promise<ActiveChange>;
  rollback(tier: string, reason: string, actor: string): Promise<ActiveChange>;
}

/** Changes straight on Postgres; workers pick them up on their next registry poll. */
export function storeRegistryChanges(db: Database): RegistryChanges {
  return {
    promote: (change) => promote(db, change),
    rollback: (tier, reason, actor) => rollbackTier(db, { tier, reason, actor }),
  };
}

/** The registry's admin operations; each change also goes to `registry_audit` (its own log) and `admin_audit`. */
export class RegistryAdmin {
  constructor(
    private readonly db: Database,
    private readonly changes: RegistryChanges,
  ) {}

  /** Every tier's versions with their endpoints. */
  list() {
    return listVersions(this.db);
  }

  /** Makes `version` its tier's active one. */
  async promote(
    input: { tier: string; version: string; reason: string },
    actor: Actor,
  ): Promise<ActiveChange> {
    const change = await this.changes.promote({ ...input, actor: actor.actor });
    await this.audit(actor, "registry.promote", change, input.reason);
    return change;
  }

  /** Returns a tier to its previous version. */
  async rollback(input: { tier: string; reason: string }, actor: Actor): Promise<ActiveChange> {
    const change = await this.changes.rollback(input.tier, input.reason, actor.actor);
    await this.audit(actor, "registry.rollback", change, input.reason);
    return change;
  }

  /** Pins (no automatic rollback) or unpins a tier; 404 for an unknown tier. */
  async pin(input: { tier: string; pinned: boolean; reason: string }, actor: Actor) {
    const found = await setPinned(this.db, { ...input, actor: actor.actor });
    if (!found) throw new GatewayError("NOT_FOUND", `No tier '${input.tier}'.`, { param: "tier" });
    await appendAudit(this.db, {
      ...actor,
      tenantId: null,
      action: input.pinned ? "registry.pin" : "registry.unpin",
      target: input.tier,
      after: { pinned: input.pinned, reason: input.reason },
    });
    return { tier: input.tier, pinned: input.pinned };
  }

  private async audit(actor: Actor, action: string, change: ActiveChange, reason: string): Promise<void> {
    await appendAudit(this.db, {
      ...actor,
      tenantId: null,
      action,
      target: change.tier,
      before: { active: change.from },
      after: { active: change.to, reason },
    });
  }
}
