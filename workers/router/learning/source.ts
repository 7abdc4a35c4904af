import type { Database } from "../../db/client.ts";
import { type CompiledRouterModel, compileRouterModel } from "../difficulty/model.ts";
import { bundledRouterModel, type DifficultySource } from "../difficulty/source.ts";
import { loadShifts, shiftKey } from "./adjustments.ts";
import { activeRouterModelVersion, loadRouterModel } from "./models.ts";

/**
 * The difficulty source a pool worker routes with: the registry's active router model (the bundled one
 * until the registry has one) and the shifts learned per tenant, re-read every `intervalMs`. A failed
 * read keeps what was last read, so a Postgres outage never stops routing.
 */
export class RegistryDifficultySource implements DifficultySource {
  private compiled: CompiledRouterModel = bundledRouterModel();
  private shifts = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly options: { intervalMs: number; onError?: (error: unknown) => void },
  ) {}

  model(): CompiledRouterModel {
    return this.compiled;
  }

  shift(tenant: string, taskClass: string): number {
    return this.shifts.get(shiftKey(tenant, taskClass)) ?? 0;
  }

  /** Reads the active model version (loading it when it changed) and the shifts once. */
  async refresh(): Promise<void> {
    try {
      const version = await activeRouterModelVersion(this.db);
      if (version && version !== this.compiled.model.version) {
        const model = await loadRouterModel(this.db, version);
        if (model) this.compiled = compileRouterModel(model);
      } else if (!version && this.compiled !== bundledRouterModel()) {
        this.compiled = bundledRouterModel();
      }
      this.shifts = await loadShifts(this.db);
    } catch (error: unknown) {
      this.options.onError?.(error);
    }
  }

  start(): void {
    this.stopped = false;
    const tick = async () => {
      await this.refresh();
      if (!this.stopped) {
        this.timer = setTimeout(tick, this.options.intervalMs);
        (this.timer as { unref?: () => void }).unref?.();
      }
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
