import { createServer, type IncomingMessage, type ServerResponse } from "node:http";

/**
 * An OpenAI-wire upstream that records every request (path and body) and answers both
 * `POST /v1/chat/completions` and `POST /v1/responses` (vLLM's pair), streamed or not, with
 * `answer <n>` where n counts its calls. Tests check what reached the upstream, not what a model said.
 */
export interface RecordingUpstream {
  url: string;
  requests: { path: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

const usage = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };

function responseObject(n: number, model: string, status: "in_progress" | "completed") {
  const done = status === "completed";
  return {
    id: `resp_rec${n}`,
    object: "response",
    created_at: Math.floor(Date.now() / 1000),
    status,
    model,
    output: done
      ? [
          {
            type: "message",
            id: `msg_rec${n}`,
            status: "completed",
            role: "assistant",
            content: [{ type: "output_text", text: `answer ${n}`, annotations: [] }],
          },
        ]
      : [],
    usage: done
      ? {
          input_tokens: 5,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 2,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 7,
        }
      : null,
    store: false,
    previous_response_id: null,
  };
}

function responsesStream(n: number, model: string): string {
  let sequence = 0;
  const event = (type: string, fields: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...fields })}\n\n`;
  const at = { item_id: `msg_rec${n}`, output_index: 0, content_index: 0 };
  const final = responseObject(n, model, "completed");
  return [
    event("response.created", { response: responseObject(n, model, "in_progress") }),
    event("response.output_item.added", {
      output_index: 0,
      item: { type: "message", id: `msg_rec${n}`, status: "in_progress", role: "assistant", content: [] },
    }),
    event("response.content_part.added", { ...at, part: { type: "output_text", text: "", annotations: [] } }),
    event("response.output_text.delta", { ...at, delta: "answer" }),
    event("response.output_text.delta", { ...at, delta: ` ${n}` }),
    event("response.output_text.done", { ...at, text: `answer ${n}` }),
    event("response.output_item.done", { output_index: 0, item: final.output[0] }),
    event("response.completed", { response: final }),
  ].join("");
}

function chatAnswer(n: number, model: string, stream: boolean): string {
  const head = { id: `chatcmpl-rec${n}`, created: Math.floor(Date.now() / 1000), model };
  if (!stream) {
    const message = { role: "assistant", content: `answer ${n}` };
    return JSON.stringify({
      ...head,
      object: "chat.completion",
      choices: [{ index: 0, message, finish_reason: "stop" }],
      usage,
    });
  }
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ ...head, object: "chat.completion.chunk", choices, ...extra })}\n\n`;
  return [
    chunk([{ index: 0, delta: { role: "assistant", content: `answer ${n}` }, finish_reason: null }]),
    chunk([{ index: 0, delta: {}, finish_reason: "stop" }]),
    chunk([], { usage }),
    "data: [DONE]\n\n",
  ].join("");
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Starts the upstream on `port` (127.0.0.1). */
export async function startRecordingUpstream(port: number): Promise<RecordingUpstream> {
  const requests: RecordingUpstream["requests"] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req).then((body) => {
      const path = req.url ?? "";
      requests.push({ path, body });
      const n = requests.length;
      const model = String(body.model ?? "");
      const stream = body.stream === true;
      const type = stream ? "text/event-stream" : "application/json";
      if (path === "/v1/responses") {
        res.writeHead(200, { "content-type": type });
        res.end(stream ? responsesStream(n, model) : JSON.stringify(responseObject(n, model, "completed")));
        return;
      }
      if (path === "/v1/chat/completions") {
        res.writeHead(200, { "content-type": type });
        res.end(chatAnswer(n, model, stream));
        return;
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
