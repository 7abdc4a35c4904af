/**
 * The placeholder provider: a clearly labelled stand-in with no model behind it, used only until the
 * model tiers are configured. Its answers say so in their text and in `model`.
 */
export const placeholderEndpoint = {
  name: "placeholder",
  kind: "placeholder",
  model: "tiergate-placeholder",
  modelVersion: "0",
  capabilities: ["chat"],
} as const;
