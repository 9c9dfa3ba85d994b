/**
 * Lets `node -r ./bench/register.js bench/store.ts` run the TypeScript benches and the
 * src/ modules they import straight from source: each .ts file is transpiled on require
 * with typescript's transpileModule (no type check; `npx tsc --noEmit` does that). Running
 * from source keeps every `__dirname`-relative path (proto/, build/annakv.wasm) correct
 * and leaves no build folder behind.
 */
"use strict";
const fs = require("node:fs");
const ts = require("typescript");

const compilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  sourceMap: false,
  inlineSourceMap: true,
};

require.extensions[".ts"] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, "utf8");
  const { outputText } = ts.transpileModule(source, { compilerOptions, fileName: filename });
  module._compile(outputText, filename);
};
