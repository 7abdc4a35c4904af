// Runs inside a Bun Worker: the ClickHouse engine call blocks its thread for as long as the server runs,
// so the main thread stays free to handle signals (see server.ts).
import { CString, dlopen, FFIType, type Pointer, ptr } from "bun:ffi";

export interface EngineRequest {
  libraryPath: string;
  argv: string[];
}

/** What the worker posts back when the engine call returns: the engine's error text, empty when none. */
export interface EngineResult {
  error: string;
}

declare const self: Worker;

function runEngine({ libraryPath, argv }: EngineRequest): EngineResult {
  const lib = dlopen(libraryPath, {
    chdb_query_cmdline: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.ptr },
    chdb_result_error: { args: [FFIType.ptr], returns: FFIType.ptr },
  });
  // NUL-terminated copies of the arguments plus a NULL-terminated array of pointers to them;
  // `strings` keeps the buffers alive for the whole (long) call.
  const strings = argv.map((arg) => Buffer.from(`${arg}\0`, "utf8"));
  const pointers = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => {
    pointers[i] = BigInt(ptr(s));
  });
  const result = lib.symbols.chdb_query_cmdline(argv.length, ptr(pointers));
  const errorPointer = result ? (lib.symbols.chdb_result_error(result) as Pointer | null) : null;
  return {
    error: errorPointer ? new CString(errorPointer).toString() : result ? "" : "engine returned no result",
  };
}

self.onmessage = (event: MessageEvent<EngineRequest>) => {
  self.postMessage(runEngine(event.data));
};
