/** `npm run registry -- price …` and `prices`: the registry's price history. */
import { z } from "zod";
import type { Database } from "../db/client.ts";
import { listPrices, setPrice } from "../spend/prices.ts";
import { CliError, parseOptions, print } from "./lib/script-env.ts";

export const pricesUsage = `  price <tier> <version> --input <usd> --output <usd> [--cached <usd>] [--from <ISO time>]
                                            USD per million tokens from now (or --from) on;
                                            earlier requests keep the price they had
  prices [tier]                             the price history, newest first`;

const perMillion = z.coerce.number({ message: "must be a number" }).nonnegative("must be 0 or more");

const priceOptions = z.object({
  input: perMillion,
  output: perMillion,
  cached: perMillion.optional(),
  from: z.iso.datetime({ offset: true, message: "must be an ISO time" }).optional(),
});

/** The option names the price commands read (added to the registry CLI's parser). */
export const priceOptionSpec = {
  input: { type: "string" },
  output: { type: "string" },
  cached: { type: "string" },
  from: { type: "string" },
} as const;

interface PriceCommand {
  db: Database;
  args: string[];
  values: Record<string, unknown>;
  actor: string;
}

/** `price <tier> <version> --input … --output …`: appends a price row. */
export async function priceCommand({ db, args, values, actor }: PriceCommand): Promise<void> {
  const [tier, version] = args;
  if (!tier || !version) throw new CliError(`price needs a tier and a version\n\n${pricesUsage}`);
  const options = parseOptions(priceOptions, values, pricesUsage);
  const entry = await setPrice(db, {
    tier,
    version,
    price: { input: options.input, output: options.output, cached: options.cached ?? options.input },
    ...(options.from ? { effectiveFrom: new Date(options.from) } : {}),
    actor,
  });
  print(
    `${tier} ${version}: input ${entry.price.input}, output ${entry.price.output}, cached ${entry.price.cached} USD/1M tokens from ${new Date(entry.effectiveFrom).toISOString()}`,
  );
}

/** `prices [tier]`: the price history. */
export async function pricesCommand({ db, args }: PriceCommand): Promise<void> {
  const entries = (await listPrices(db)).filter((entry) => !args[0] || entry.tier === args[0]);
  if (entries.length === 0) print("no prices in the registry (unpriced versions cost 0)");
  for (const e of entries) {
    print(
      `${new Date(e.effectiveFrom).toISOString()} ${e.tier.padEnd(8)} ${e.version.padEnd(32)} in ${e.price.input} out ${e.price.output} cached ${e.price.cached}`,
    );
  }
}
