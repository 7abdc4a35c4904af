import { defineConfig } from "drizzle-kit";

/** drizzle-kit: `npx drizzle-kit generate` writes SQL migrations from workers/db/schema.ts. */
export default defineConfig({
  dialect: "postgresql",
  schema: "./workers/db/schema.ts",
  out: "./workers/db/migrations",
  dbCredentials: {
    url: process.env.DATABASE_URL ?? "postgresql://tiergate:tiergate@127.0.0.1:5432/tiergate",
  },
});
