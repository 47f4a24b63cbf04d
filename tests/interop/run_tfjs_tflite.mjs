// Runs a .tflite model in TensorFlow.js's TFLite runtime (npm
// @tensorflow/tfjs-tflite: TFLite's C++ interpreter built to WASM, CPU, one
// thread) under Node and writes the outputs as .npy files.
//
//   node run_tfjs_tflite.mjs [--steps N] MODEL.tflite OUT_DIR IN0.npy [IN1.npy ...]
//   node run_tfjs_tflite.mjs --jobs JOBS.txt
//
// Same conventions as run_litert.mjs: inputs are matched to the model's
// inputs by position; for each output k it writes OUT_DIR/output_<k>.npy and
// prints one JSON line to stdout: {"inputs": [names], "outputs": [names]}.
// Exit status 0 on success; 1 with a message on stderr otherwise.
//
// The second form runs many models in one process: each line of JOBS.txt is
// MODEL<TAB>OUT_DIR<TAB>IN0.npy...; a job that fails writes its message to
// OUT_DIR/error.txt and the others still run (exit status 0). A line may
// start with a field "steps=N".
//
// --steps N (stateful models: SVDF, LSTM with variable tensors): the model is
// invoked N times in the same interpreter, so variable tensors carry over;
// the inputs are N groups of the model's inputs (step 0's first), and step
// s writes OUT_DIR/step<s>/output_<k>.npy (with N = 1, the plain layout).
//
// tfjs-tflite is written for browsers. It decides it runs in a web worker
// (there is no `window`), so these shims make it load in Node:
//   - `self` is the global object, with a `location` (the loader resolves
//     the wasm path against it; an absolute path and an empty origin keep
//     the path as it is);
//   - `importScripts` evaluates the emscripten module file in this context
//     (its top-level `var tflite_web_api_ModuleFactory` becomes a global);
//   - the factory is wrapped to be given the .wasm bytes (`wasmBinary`), read
//     from the package's wasm/ folder, instead of fetching them;
//   - the multi-threaded build is never chosen (MessageChannel is hidden
//     while the loader probes the features), as it needs real web workers.
// Tensor buffers are read and written through the runner's own typed-array
// views, so int8, uint8, int16, int32 and float32 are all exact (tfjs-core
// tensors know no 8/16-bit types). tfjs-core and its CPU backend are loaded
// because tfjs-tflite's entry point requires them.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

import {fail, JobError, readNpy, writeNpy} from './harness_util.mjs';

const require = createRequire(import.meta.url);

// tfjs-tflite data types and their .npy descriptors.
const kTypes = {
  float32: {npy: '<f4', bytes: 4},
  int32: {npy: '<i4', bytes: 4},
  uint8: {npy: '|u1', bytes: 1},
  int16: {npy: '<i2', bytes: 2},
  int8: {npy: '|i1', bytes: 1},
};

function bytesOf(view) {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

async function loadRuntime() {
  const wasmDir = path.join(path.dirname(require.resolve('@tensorflow/tfjs-tflite')), '..', 'wasm');
  globalThis.self = globalThis;
  globalThis.location = {origin: '', href: wasmDir + '/'};
  globalThis.importScripts = (url) => {
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    if (file.endsWith('_threaded.js')) fail(`${file}: the multi-threaded build needs web workers`);
    const source = `(function () {\n` + fs.readFileSync(file, 'utf8') +
        `\nreturn tflite_web_api_ModuleFactory;\n})`;
    const factory = vm.runInThisContext(source, {filename: file})();
    const wasmFile = file.replace(/\.js$/, '.wasm');
    globalThis.tflite_web_api_ModuleFactory = (options) =>
      factory({...options, wasmBinary: fs.readFileSync(wasmFile)});
  };
  const tf = require('@tensorflow/tfjs-core');
  require('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  // The loader probes (and caches) the wasm features as soon as the package
  // is loaded: MessageChannel is hidden from then until the probe is done.
  const messageChannel = globalThis.MessageChannel;
  globalThis.MessageChannel = undefined;
  let tflite;
  try {
    tflite = require('@tensorflow/tfjs-tflite');
    const features = await tflite.getWasmFeatures();
    if (features.multiThreading) fail('could not hide the multi-threaded wasm build');
  } finally {
    globalThis.MessageChannel = messageChannel;
  }
  tflite.setWasmPath(wasmDir + '/');
  return tflite;
}

// TFLite's wasm build prints its log ("INFO: Created ... XNNPACK delegate",
// "Node number 3 (SVDF) failed to prepare", ...) through console.log/warn;
// it is moved to stderr (stdout carries only the JSON line) and collected
// for error messages.
let logLines = [];
const printErr = console.error.bind(console);
for (const stream of ['log', 'warn', 'error']) {
  console[stream] = (...args) => {
    logLines.push(args.join(' '));
    printErr(...args);
  };
}

function shapeOf(info) {
  return info.shape === '' ? [] : info.shape.split(',').map(Number);
}

// Runs one model; throws on any error.
async function runOne(tflite, steps, modelPath, outDir, inputPaths) {
  logLines = [];
  if (!Number.isInteger(steps) || steps < 1) fail(`${modelPath}: bad step count ${steps}`);
  const modelBytes = fs.readFileSync(modelPath);
  let model;
  try {
    const buffer = modelBytes.buffer.slice(
        modelBytes.byteOffset, modelBytes.byteOffset + modelBytes.byteLength);
    model = await tflite.loadTFLiteModel(buffer, {numThreads: 1});
  } catch (e) {
    fail(`${modelPath}: tfjs-tflite could not load it: ${e?.message ?? e} ${logLines.join(' | ')}`);
  }
  const runner = model.modelRunner;
  try {
    const inputs = runner.getInputs();
    const outputs = runner.getOutputs();
    const inputNames = inputs.map((t) => t.name);
    const outputNames = outputs.map((t) => t.name);
    if (inputPaths.length !== steps * inputs.length) {
      fail(`${modelPath}: ${inputPaths.length} inputs given, model has ${inputs.length}` +
           (steps > 1 ? ` (x ${steps} steps)` : ''));
    }
    for (let s = 0; s < steps; ++s) {
      for (let i = 0; i < inputs.length; ++i) {
        const file = inputPaths[s * inputs.length + i];
        const info = kTypes[inputs[i].dataType];
        if (!info) fail(`input ${inputNames[i]}: type ${inputs[i].dataType} not supported`);
        const npy = readNpy(file);
        if (npy.descr !== info.npy) {
          fail(`input ${inputNames[i]}: ${file} has dtype ${npy.descr}, model wants ${info.npy}`);
        }
        const dims = shapeOf(inputs[i]);
        if (npy.shape.length !== dims.length || npy.shape.some((d, j) => dims[j] !== d)) {
          fail(`input ${inputNames[i]}: ${file} has shape [${npy.shape}], model wants [${dims}]`);
        }
        const dst = bytesOf(inputs[i].data());
        if (dst.byteLength !== npy.data.byteLength) {
          fail(`input ${inputNames[i]}: ${npy.data.byteLength} data bytes, model wants ${dst.byteLength}`);
        }
        dst.set(npy.data);
      }
      if (!runner.infer()) {
        fail(`${modelPath}: inference failed at step ${s}: ${logLines.join(' | ')}`);
      }
      const dir = steps > 1 ? path.join(outDir, `step${s}`) : outDir;
      fs.mkdirSync(dir, {recursive: true});
      // Output views are taken after infer(): the heap may have grown.
      const results = runner.getOutputs();
      for (let k = 0; k < results.length; ++k) {
        const info = kTypes[results[k].dataType];
        if (!info) fail(`output ${outputNames[k]}: type ${results[k].dataType} not supported`);
        writeNpy(path.join(dir, `output_${k}.npy`), info.npy, shapeOf(results[k]),
                 bytesOf(results[k].data()).slice());
      }
    }
    process.stdout.write(JSON.stringify({inputs: inputNames, outputs: outputNames}) + '\n');
  } finally {
    runner.cleanUp();
  }
}

// Splits "[steps=N] MODEL OUT_DIR IN..." into its parts.
function parseJob(fields) {
  let steps = 1;
  const m = /^(?:--steps[= ]|steps=)(\d+)$/.exec(fields[0] ?? '');
  if (m) {
    steps = Number(m[1]);
    fields = fields.slice(1);
  } else if (fields[0] === '--steps') {
    steps = Number(fields[1]);
    fields = fields.slice(2);
  }
  const [modelPath, outDir, ...inputPaths] = fields;
  return {steps, modelPath, outDir, inputPaths};
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--jobs') {
    if (!args[1]) fail('usage: run_tfjs_tflite.mjs --jobs JOBS.txt');
    const lines = fs.readFileSync(args[1], 'utf8').split('\n').filter((l) => l.trim());
    const tflite = await loadRuntime();
    for (const line of lines) {
      const job = parseJob(line.split('\t'));
      const outDir = job.outDir;
      if (!outDir) fail(`${args[1]}: bad job line "${line}"`);
      try {
        await runOne(tflite, job.steps, job.modelPath, outDir, job.inputPaths);
      } catch (e) {
        fs.rmSync(outDir, {recursive: true, force: true});
        fs.mkdirSync(outDir, {recursive: true});
        fs.writeFileSync(path.join(outDir, 'error.txt'), String(e instanceof JobError ? e.message : (e?.stack ?? e)));
      }
    }
    return;
  }
  const job = parseJob(args);
  if (!job.modelPath || !job.outDir) {
    fail('usage: run_tfjs_tflite.mjs [--steps N] MODEL OUT_DIR IN0.npy ...');
  }
  await runOne(await loadRuntime(), job.steps, job.modelPath, job.outDir, job.inputPaths);
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`run_tfjs_tflite: ${e instanceof JobError ? e.message : (e?.stack ?? e)}\n`);
  process.exit(1);
});
