/** USD per million tokens, prompt and completion. */
export interface TokenPrice {
  prompt: number;
  completion: number;
}

/**
 * Estimated cost per tier for the dashboard, until the router's provider config carries prices: the
 * self-hosted tiers are priced as GPU time per token, large ≈ 20× small (the ratio of their model sizes).
 * An unknown tier costs 0 and is labelled as such on the chart.
 */
export const tierPrices: Readonly<Record<string, TokenPrice>> = {
  small: { prompt: 0.05, completion: 0.1 },
  medium: { prompt: 0.25, completion: 0.5 },
  large: { prompt: 1, completion: 2 },
};

export function costUsd(tier: string, promptTokens: number, completionTokens: number): number {
  const price = tierPrices[tier];
  if (!price) return 0;
  return (promptTokens * price.prompt + completionTokens * price.completion) / 1_000_000;
}
