import { beforeAll, describe, expect, it } from "vitest";
import { useAdminStack } from "./harness.ts";

// A pool whose ClickHouse cannot be reached: usage queries answer 503 in the OpenAI error shape (never a
// 500 or a hang), while everything kept in Postgres (keys, audit) keeps working.

const stack = useAdminStack(18_174, "admin-outage", { CLICKHOUSE_URL: "http://127.0.0.1:9" });
let tenant = "";
let admin = "";

beforeAll(async () => {
  tenant = await stack.tenant("outage");
  admin = (await stack.adminKey("admin")).key;
}, 60_000);

describe("the admin API with ClickHouse down", () => {
  it("usage is 503 with the request id; keys and the audit log still answer", async () => {
    const usage = await stack.call("GET", `/admin/v1/tenants/${tenant}/usage`, { token: admin });
    expect(usage.status).toBe(503);
    expect(usage.body.error?.request_id).toBe(usage.headers.get("x-request-id"));
    const created = await stack.call("POST", `/admin/v1/tenants/${tenant}/keys`, {
      token: admin,
      body: { name: "x" },
    });
    expect(created.status).toBe(201);
    const audit = await stack.call("GET", `/admin/v1/tenants/${tenant}/audit`, { token: admin });
    expect(audit.status).toBe(200);
  });
});
