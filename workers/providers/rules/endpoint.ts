import type { EndpointSpec } from "../types.ts";

/**
 * The `rules` provider: deterministic, no network, always available. It is the last step of every
 * fallback chain, so a request that every model tier failed still gets an honest answer.
 */
export const rulesEndpoint: EndpointSpec = {
  id: "rules",
  provider: "rules",
  baseURL: "",
  apiKey: "",
  model: "tiergate-rules",
  weight: 1,
  metricsURL: "",
  completions: false,
};

export const rulesModelVersion = "rules-1";
