import { describe, expect, it } from "vitest";
import {
  detectPii,
  ibanValid,
  ipv6Valid,
  luhnValid,
  type PiiKind,
} from "../../../shared/guardrails/detectors.ts";
import { OutputFilter } from "../../../shared/guardrails/output.ts";
import { Placeholders } from "../../../shared/guardrails/redact.ts";

const kindsIn = (text: string): string[] =>
  detectPii(text).map((m) => `${m.kind}:${text.slice(m.start, m.end)}`);

describe("PII detectors", () => {
  it.each<[string, PiiKind, string]>([
    ["write to jane.roe+tag@mail.example.org today", "email", "jane.roe+tag@mail.example.org"],
    ["Visa 4111 1111 1111 1111 exp 09/28", "card", "4111 1111 1111 1111"],
    ["amex 3782-822463-10005", "card", "3782-822463-10005"],
    ["card 5555555555554444.", "card", "5555555555554444"],
    ["IBAN DE89 3704 0044 0532 0130 00 please", "iban", "DE89 3704 0044 0532 0130 00"],
    ["pay GB82WEST12345698765432", "iban", "GB82WEST12345698765432"],
    ["SSN 123-45-6789", "ssn", "123-45-6789"],
    ["my social security number is 123456789", "ssn", "123456789"],
    ["call (415) 555-0132", "phone", "(415) 555-0132"],
    ["ring +44 20 7946 0958 later", "phone", "+44 20 7946 0958"],
    ["whatsapp +4915112345678", "phone", "+4915112345678"],
    ["host 10.20.30.40 is down", "ip", "10.20.30.40"],
    ["from 2001:db8::8a2e:370:7334 today", "ip", "2001:db8::8a2e:370:7334"],
    ["key sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2", "secret", "sk-proj-A1b2C3d4E5f6G7h8I9j0K1l2"],
    ["aws AKIAIOSFODNN7EXAMPLE", "secret", "AKIAIOSFODNN7EXAMPLE"],
    [`gh ghp_${"a1B2".repeat(9)}`, "secret", `ghp_${"a1B2".repeat(9)}`],
    [`tiergate tg_${"Z9y8".repeat(8)}`, "secret", `tg_${"Z9y8".repeat(8)}`],
  ])("finds %j as %s", (text, kind, value) => {
    expect(kindsIn(text)).toEqual([`${kind}:${value}`]);
  });

  it.each([
    "order 4111 1111 1111 1112 shipped", // Luhn fails
    "order number 1234567812345678",
    "meeting on 2024-03-15 at 10:30",
    "born 03/15/1990 in Ohio",
    "due 15.03.2024",
    "upgrade to version 10.0.19041.1",
    "we run v1.2.3.4 of the agent",
    "section 1.2.3.4 of the spec",
    "at 10:30:00 sharp",
    "MAC 00:1A:2B:3C:4D:5E",
    "use sk-learn for that",
    "ticket DE12 is open", // too short for an IBAN
    "range 100-200-300",
    "tracking 1Z999AA10123456784",
    "the 2023-2024 season had 1200-1300 fans",
  ])("finds nothing in %j", (text) => {
    expect(kindsIn(text)).toEqual([]);
  });

  it("checks Luhn, mod-97 and IPv6 structure", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(ibanValid("DE89370400440532013000")).toBe(true);
    expect(ibanValid("DE89370400440532013001")).toBe(false);
    expect(ipv6Valid("::1")).toBe(true);
    expect(ipv6Valid("1:2:3:4:5:6:7:8")).toBe(true);
    expect(ipv6Valid("1::2::3")).toBe(false);
    expect(ipv6Valid("10:30:00")).toBe(false);
  });
});

describe("placeholders and the output filter", () => {
  it("gives the same value the same placeholder and restores it, never a secret", () => {
    const p = new Placeholders();
    expect(p.for("email", "a@b.io")).toBe("[EMAIL_1]");
    expect(p.for("email", "c@d.io")).toBe("[EMAIL_2]");
    expect(p.for("email", "a@b.io")).toBe("[EMAIL_1]");
    const secret = p.for("secret", "AKIAIOSFODNN7EXAMPLE");
    expect(p.restore(`to [EMAIL_2] and [EMAIL_1], ${secret}`)).toBe("to c@d.io and a@b.io, [SECRET_1]");
  });

  it("redacts a match split across streamed pieces and releases the rest at the end", () => {
    const filter = new OutputFilter(
      { pii: { email: "log", card: "block" }, output: true },
      new Placeholders(),
    );
    const text = `Sure. Your card 4111 1111 1111 1111 is on file; mail bob@example.com ${"and more words ".repeat(8)}done.`;
    let out = "";
    for (let i = 0; i < text.length; i += 3) out += filter.push(text.slice(i, i + 3));
    out += filter.flush();
    expect(out).toContain("[REDACTED_CARD]");
    expect(out).not.toContain("4111");
    // `log` counts without changing the text.
    expect(out).toContain("bob@example.com");
    expect(filter.counts).toMatchObject({ "output.card:redact": 1, "output.email:log": 1 });
    expect(out.replace("[REDACTED_CARD]", "4111 1111 1111 1111")).toBe(text);
  });

  it("holds back only the tail: a long answer is mostly released before the end", () => {
    const filter = new OutputFilter({ pii: { email: "redact" }, output: true }, new Placeholders());
    const released = filter.push("word ".repeat(200));
    expect(released.length).toBeGreaterThan(1000 - 80);
    expect(released.length + filter.flush().length).toBe(1000);
  });

  it("restores the request's placeholders in a streamed answer", () => {
    const p = new Placeholders();
    p.for("email", "jane@corp.example");
    const filter = new OutputFilter({ pii: { email: "redact" }, restore: true }, p);
    const pieces = ["I will write to [EM", "AIL_1] now", "."];
    const out = pieces.map((s) => filter.push(s)).join("") + filter.flush();
    expect(out).toBe("I will write to jane@corp.example now.");
  });
});
