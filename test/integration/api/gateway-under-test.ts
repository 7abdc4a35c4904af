import { ports } from "../../stack/ports.ts";
import { type ExtraEdge, startWranglerEdge } from "../edge/wrangler-edge.ts";
import { PoolUnderTest } from "../events/pool-under-test.ts";
import { type FakeUpstream, startFakeUpstream } from "./fake-openai-upstream.ts";

/**
 * A gateway of this checkout on private ports: the edge in workerd (`wrangler dev`), a pool of its own
 * whose `small` and `medium` tiers are the stack's CPU model server and whose `large` tier is the
 * scripted fake upstream (tools, logprobs, `n`), with routing from the env.
 */
export interface GatewayUnderTest {
  edgeUrl: string;
  fake: FakeUpstream;
  stop(): Promise<void>;
}

/** Starts fake upstream, pool and edge on `basePort` .. `basePort + 2` (the edge on `edgePort`). */
export async function startGateway(
  name: string,
  basePort: number,
  edgePort: number,
): Promise<GatewayUnderTest> {
  const fake = await startFakeUpstream(basePort + 2);
  const pool = new PoolUnderTest(basePort, name, {
    LOCAL_MODEL_BASE_URL: `http://127.0.0.1:${ports.modelServer}/v1`,
    VLLM_LARGE_BASE_URL: fake.url,
    VLLM_LARGE_MODEL: "fake-large",
  });
  let edge: ExtraEdge | undefined;
  try {
    await pool.start();
    edge = await startWranglerEdge(`edge-${name}`, edgePort, { POOL_REGIONS: `local=${pool.url}` });
  } catch (error: unknown) {
    await pool.stop();
    await fake.close();
    throw error;
  }
  const started = edge;
  return {
    edgeUrl: started.url,
    fake,
    async stop() {
      await started.stop();
      await pool.stop();
      await fake.close();
    },
  };
}
