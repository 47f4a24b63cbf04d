// What the Node harnesses for the official TFLite runtimes share
// (run_litert.mjs, run_tfjs_tflite.mjs, bench/litert_bench.mjs): .npy files,
// job errors, embind vectors, and loading LiteRT (@litertjs/core) in Node.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const require = createRequire(import.meta.url);

// An error of one job (bad input file, runtime failure): reported by its
// message alone, without a stack.
export class JobError extends Error {}

export function fail(message) {
  throw new JobError(message);
}

// Reads a version 1/2/3 .npy file: returns {descr, shape, data (Uint8Array)}.
export function readNpy(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 10 || bytes.toString('latin1', 0, 6) !== '\x93NUMPY') {
    fail(`${file}: not a .npy file`);
  }
  const major = bytes[6];
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) fail(`${file}: bad header ${header}`);
  if (fortran === 'True') fail(`${file}: fortran_order arrays are not supported`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  return {descr, shape, data: new Uint8Array(bytes.subarray(start + headerLen))};
}

// Writes a version 1.0 .npy file (C order) holding `data` (bytes).
export function writeNpy(file, descr, shape, data) {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(prefix, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data)]));
}

// Copies an embind vector into an array and frees it.
export function vectorToArray(vector) {
  const out = [];
  for (let i = 0; i < vector.size(); ++i) out.push(vector.get(i));
  vector.delete();
  return out;
}

// Loads LiteRT's wasm runtime in Node. @litertjs/core is written for
// browsers; two shims make it load: `self` is the global object, and
// `importScripts` evaluates the emscripten module file in this context (as a
// CommonJS-style script: its top-level ModuleFactory becomes a global, its
// require() is Node's).
export async function loadLiteRt() {
  globalThis.self = globalThis;
  globalThis.importScripts = (url) => {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    const source = `(function (require, __filename, __dirname) {\n` +
        fs.readFileSync(file, 'utf8') + `\nglobalThis.ModuleFactory = ModuleFactory;\n})`;
    vm.runInThisContext(source, {filename: file})(require, file, path.dirname(file));
  };
  const core = await import('@litertjs/core');
  const wasmDir = path.join(path.dirname(require.resolve('@litertjs/core')), '..', 'wasm');
  return core.loadLiteRt(wasmDir + '/');
}
