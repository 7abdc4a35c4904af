import { readFileSync } from "node:fs";
import { Tokenizer } from "@huggingface/tokenizers";
import * as ort from "onnxruntime-web";

/** all-MiniLM-L6-v2 was trained with sequences of at most this many word pieces (sentence-transformers). */
const maxSequenceTokens = 256;

export interface Embedding {
  vector: Float32Array;
  tokens: number;
}

/**
 * A sentence-transformers encoder (BERT WordPiece tokenizer + ONNX graph, run by onnxruntime's WASM
 * backend): mean pooling over the attention mask, then L2 normalisation, as all-MiniLM-L6-v2 specifies.
 */
export class EmbeddingEngine {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    private readonly sepId: number,
  ) {}

  static async load(onnxPath: string, tokenizerPath: string): Promise<EmbeddingEngine> {
    ort.env.wasm.numThreads = 1;
    const tokenizerJson = JSON.parse(readFileSync(tokenizerPath, "utf8")) as object;
    const tokenizer = new Tokenizer(tokenizerJson, {});
    const sepId = tokenizer.encode("").ids.at(-1);
    if (sepId === undefined) throw new Error(`${tokenizerPath}: empty input encodes to no tokens`);
    const session = await ort.InferenceSession.create(readFileSync(onnxPath));
    return new EmbeddingEngine(session, tokenizer, sepId);
  }

  get dimensions(): number {
    return 384;
  }

  async embed(text: string): Promise<Embedding> {
    let ids = this.tokenizer.encode(text).ids;
    if (ids.length > maxSequenceTokens) ids = [...ids.slice(0, maxSequenceTokens - 1), this.sepId];
    const n = ids.length;
    const int64 = (values: ArrayLike<number>) =>
      new ort.Tensor(
        "int64",
        BigInt64Array.from(Array.from(values), (v) => BigInt(v)),
        [1, n],
      );
    const outputs = await this.session.run({
      input_ids: int64(ids),
      attention_mask: int64(new Array<number>(n).fill(1)),
      token_type_ids: int64(new Array<number>(n).fill(0)),
    });
    const hidden = outputs.last_hidden_state;
    if (!hidden || !(hidden.data instanceof Float32Array))
      throw new Error("model returned no last_hidden_state");
    const width = hidden.dims[2] ?? 0;
    const vector = new Float32Array(width);
    for (let token = 0; token < n; token++) {
      for (let j = 0; j < width; j++)
        vector[j] = (vector[j] ?? 0) + (hidden.data[token * width + j] ?? 0) / n;
    }
    const norm = Math.hypot(...vector) || 1;
    for (let j = 0; j < width; j++) vector[j] = (vector[j] ?? 0) / norm;
    return { vector, tokens: n };
  }
}
