import { resolveLimits, StoreLimits } from "./limits";
import type { EngineName, Store } from "./store";
import { TsStore } from "./ts-store";
import { WasmStore } from "./wasm-store";

export interface CreateStoreOptions {
  /** "wasm" (default): build/annakv.wasm; "ts": the pure-TypeScript twin. */
  engine?: EngineName;
  limits?: Partial<StoreLimits>;
  /** A compiled build/annakv.wasm to instantiate (worker threads get it from the main thread). */
  wasmModule?: WebAssembly.Module;
}

export function createStore(options: CreateStoreOptions = {}): Store {
  const limits = resolveLimits(options.limits);
  const engine = options.engine ?? "wasm";
  switch (engine) {
    case "wasm":
      return new WasmStore(limits, options.wasmModule);
    case "ts":
      return new TsStore(limits);
    default:
      throw new RangeError(`unknown engine ${JSON.stringify(engine)}: use "wasm" or "ts"`);
  }
}
