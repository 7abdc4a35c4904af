import { Template } from "@huggingface/jinja";
import {
  getLlama,
  LlamaCompletion,
  type LlamaContext,
  type LlamaContextSequence,
  LlamaLogLevel,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";

export interface ChatMessage {
  role: string;
  content: string;
}

export interface GenerationOptions {
  maxTokens: number;
  temperature: number;
  topP: number | undefined;
  seed: number;
  stop: string[];
  signal?: AbortSignal;
  /** Called with each piece of text as it is generated (stop sequences are held back by the library). */
  onText?: (text: string) => void;
}

export interface GenerationResult {
  text: string;
  completionTokens: number;
  finishReason: "stop" | "length";
}

/**
 * One GGUF model with one context sequence: generation is serial (the caller queues). Each request
 * starts from a cleared sequence, so the same request evaluates the same way and greedy output repeats.
 */
export class ChatEngine {
  private constructor(
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    private readonly template: Template,
  ) {}

  static async load(
    modelPath: string,
    options: { contextSize: number; threads: number },
  ): Promise<ChatEngine> {
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.warn });
    const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
    const chatTemplate = model.fileInfo.metadata.tokenizer.chat_template;
    if (!chatTemplate) throw new Error(`${modelPath} has no tokenizer.chat_template in its GGUF metadata`);
    const context = await model.createContext({
      contextSize: options.contextSize,
      sequences: 1,
      threads: options.threads,
    });
    return new ChatEngine(model, context, context.getSequence(), new Template(chatTemplate));
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  /** Share of the context window holding tokens right now (the CPU analogue of vLLM's KV-cache usage). */
  cacheUsage(): number {
    return this.sequence.nextTokenIndex / this.context.contextSize;
  }

  /** Renders messages with the model's own chat template (from the GGUF), ready for the assistant's turn. */
  renderChat(messages: ChatMessage[]): string {
    return this.template.render({
      messages,
      add_generation_prompt: true,
      bos_token: this.model.tokens.bosString ?? "",
      eos_token: this.model.tokens.eosString ?? "",
    });
  }

  tokenize(text: string): Token[] {
    return this.model.tokenize(text, true);
  }

  async generate(prompt: Token[], options: GenerationOptions): Promise<GenerationResult> {
    await this.sequence.clearHistory();
    const completion = new LlamaCompletion({ contextSequence: this.sequence });
    let completionTokens = 0;
    try {
      const { response, metadata } = await completion.generateCompletionWithMeta(prompt, {
        maxTokens: options.maxTokens,
        temperature: options.temperature,
        ...(options.temperature > 0 && options.topP !== undefined ? { topP: options.topP } : {}),
        seed: options.seed,
        customStopTriggers: options.stop,
        signal: options.signal,
        stopOnAbortSignal: true,
        disableContextShift: true,
        onToken: (tokens) => {
          completionTokens += tokens.length;
        },
        onTextChunk: options.onText,
      });
      return {
        text: response,
        completionTokens,
        finishReason: metadata.stopReason === "maxTokens" ? "length" : "stop",
      };
    } finally {
      completion.dispose({ disposeSequence: false });
    }
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}
