import type { WindowStats } from "../../events/stats.ts";

/** What GET /dashboard/api/stats answers: the window's stats, tier points with their cost (registry prices). */
export interface DashboardStats extends Omit<WindowStats, "tiers"> {
  tiers: (WindowStats["tiers"][number] & { cost_usd: number })[];
}
