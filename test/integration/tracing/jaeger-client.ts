import { jaegerQueryUrl } from "../../stack/services/jaeger.ts";

/** One span as Jaeger's query API returns it (OTLP JSON), flattened with its service. */
export interface FoundSpan {
  service: string;
  name: string;
  spanId: string;
  parentSpanId: string;
  kind: string | number;
  attributes: Record<string, unknown>;
  status: { code?: string | number; message?: string };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}

interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

interface OtlpTrace {
  result?: {
    resourceSpans?: {
      resource?: { attributes?: OtlpAttribute[] };
      scopeSpans?: {
        spans?: {
          name: string;
          spanId: string;
          parentSpanId?: string;
          kind: string | number;
          attributes?: OtlpAttribute[];
          status?: { code?: string | number; message?: string };
        }[];
      }[];
    }[];
  };
}

function plain(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(plain);
  return undefined;
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, plain(a.value)]));
}

/** Ids come back hex or base64 depending on the API's marshaller; tests compare hex. */
function hex(id: string | undefined): string {
  if (!id) return "";
  if (/^[0-9a-f]+$/.test(id)) return id;
  return Buffer.from(id, "base64").toString("hex");
}

/** The spans of a trace in the local Jaeger (empty when it has none yet). */
export async function traceSpans(traceId: string): Promise<FoundSpan[]> {
  const response = await fetch(`${jaegerQueryUrl}/api/v3/traces/${traceId}`);
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`jaeger answered ${response.status}: ${await response.text()}`);
  const body = (await response.json()) as OtlpTrace;
  const out: FoundSpan[] = [];
  for (const resource of body.result?.resourceSpans ?? []) {
    const service = String(attributes(resource.resource?.attributes)["service.name"] ?? "");
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        out.push({
          service,
          name: span.name,
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          kind: span.kind,
          attributes: attributes(span.attributes),
          status: span.status ?? {},
        });
      }
    }
  }
  return out;
}

/** Polls until the trace holds spans matching `ready` (exports are batched), or fails after `timeoutMs`. */
export async function waitForTrace(
  traceId: string,
  ready: (spans: FoundSpan[]) => boolean,
  timeoutMs = 20_000,
): Promise<FoundSpan[]> {
  const deadline = Date.now() + timeoutMs;
  let spans: FoundSpan[] = [];
  while (Date.now() < deadline) {
    spans = await traceSpans(traceId);
    if (ready(spans)) return spans;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `trace ${traceId} incomplete after ${timeoutMs} ms: ${spans.map((s) => `${s.service}/${s.name}`).join(", ")}`,
  );
}

/** A fresh sampled client trace context. */
export function clientTraceparent(): { traceparent: string; traceId: string; spanId: string } {
  const traceId = crypto.randomUUID().replaceAll("-", "");
  const spanId = crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  return { traceparent: `00-${traceId}-${spanId}-01`, traceId, spanId };
}
