import { connect } from "node:net";

/**
 * A real Kafka protocol round trip: sends a Metadata v4 request (no topics) and returns the ids of
 * the brokers the cluster reports. Written on node:net alone so that the stack controller runs
 * under both Node and Bun without a Kafka client library.
 */
export function kafkaBrokerIds(host: string, port: number, timeoutMs = 2_000): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () =>
      fail(new Error(`kafka metadata request to ${host}:${port} timed out`)),
    );
    socket.once("error", fail);
    socket.once("connect", () => socket.write(metadataRequest()));
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      const data = Buffer.concat(chunks);
      if (data.length < 4 || data.length < 4 + data.readInt32BE(0)) return;
      socket.destroy();
      try {
        resolve(parseBrokerIds(data.subarray(4, 4 + data.readInt32BE(0))));
      } catch (error: unknown) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

const apiKeyMetadata = 3;
const apiVersion = 4;
const correlationId = 0x7167; // arbitrary, checked in the answer
const clientId = "tiergate-stack-probe";

/** Request header v1 + Metadata v4 body: topics = [] (none), allow_auto_topic_creation = false. */
function metadataRequest(): Buffer {
  const id = Buffer.from(clientId, "utf8");
  const body = Buffer.alloc(2 + 2 + 4 + 2 + id.length + 4 + 1);
  let at = body.writeInt16BE(apiKeyMetadata, 0);
  at = body.writeInt16BE(apiVersion, at);
  at = body.writeInt32BE(correlationId, at);
  at = body.writeInt16BE(id.length, at);
  at += id.copy(body, at);
  at = body.writeInt32BE(0, at);
  body.writeInt8(0, at);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** Response header v0 + Metadata v4: throttle_time_ms, then brokers [node_id, host, port, rack]. */
function parseBrokerIds(frame: Buffer): number[] {
  if (frame.readInt32BE(0) !== correlationId)
    throw new Error("kafka metadata answer has a foreign correlation id");
  let at = 4 + 4;
  const count = frame.readInt32BE(at);
  at += 4;
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(frame.readInt32BE(at));
    at += 4;
    at += 2 + frame.readInt16BE(at); // host
    at += 4; // port
    const rackLength = frame.readInt16BE(at);
    at += 2 + Math.max(0, rackLength);
  }
  return ids;
}
