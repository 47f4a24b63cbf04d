// Runs a .tflite model in Google's LiteRT runtime (npm @litertjs/core, WASM, CPU)
// under Node and writes the outputs as .npy files.
//
//   node run_litert.mjs MODEL.tflite OUT_DIR IN0.npy [IN1.npy ...]
//   node run_litert.mjs --jobs JOBS.txt
//
// The second form runs many models in one process (LiteRT's start-up costs
// about a second): each line of JOBS.txt is MODEL<TAB>OUT_DIR<TAB>IN0.npy...;
// a job that fails writes its message to OUT_DIR/error.txt and the others
// still run (exit status 0).
//
// Inputs are matched to the default signature's inputs by position. For each
// output k it writes OUT_DIR/output_<k>.npy, and it prints one JSON line to
// stdout: {"inputs": [names], "outputs": [names]} in signature order.
// Exit status 0 on success; 1 with a message on stderr otherwise.
//
// @litertjs/core is written for browsers; harness_util.mjs's loadLiteRt
// shims it into Node. The JS Tensor wrapper only knows float32/int32/uint8, so this
// harness builds and reads tensor buffers with the wasm bindings directly,
// which also handle int8 and int16.
import fs from 'node:fs';
import path from 'node:path';

import {fail, JobError, loadLiteRt, readNpy, vectorToArray, writeNpy} from './harness_util.mjs';

// Element type codes of LiteRT's ElementType enum, and .npy descriptors.
const kTypes = {
  1: {npy: '<f4', bytes: 4, name: 'float32'},
  2: {npy: '<i4', bytes: 4, name: 'int32'},
  3: {npy: '|u1', bytes: 1, name: 'uint8'},
  7: {npy: '<i2', bytes: 2, name: 'int16'},
  9: {npy: '|i1', bytes: 1, name: 'int8'},
};

// LiteRT's wasm build reports some failures only as "ERROR: ..." log lines
// on stderr (e.g. "Failed to allocate tensors" when a delegate rejects a
// node) and then still returns output buffers with garbage. Such lines are
// watched for and turn the job into a failure.
let errorLines = [];
const stderrWrite = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => {
  const text = String(chunk);
  for (const line of text.split('\n')) {
    if (/^ERROR[: ]/.test(line)) errorLines.push(line);
  }
  return stderrWrite(chunk, ...rest);
};

// Runs one model; throws on any error.
async function runOne(liteRt, modelPath, outDir, inputPaths) {
  errorLines = [];
  try {
    await runOneUnchecked(liteRt, modelPath, outDir, inputPaths);
  } finally {
    if (errorLines.length) {
      // Never leave outputs behind from a failed run.
      fs.rmSync(outDir, {recursive: true, force: true});
    }
  }
  if (errorLines.length) fail(`${modelPath}: LiteRT reported: ${errorLines.join(' | ')}`);
}

async function runOneUnchecked(liteRt, modelPath, outDir, inputPaths) {
  const wasm = liteRt.liteRtWasm;
  const env = liteRt.getDefaultEnvironment();

  const modelBytes = fs.readFileSync(modelPath);
  const ptr = wasm._malloc(modelBytes.byteLength);
  wasm.HEAPU8.set(modelBytes, ptr);
  const model = wasm.loadModel(env.liteRtEnvironment, ptr, modelBytes.byteLength);
  const compiled = await wasm.compileModel(env.liteRtEnvironment, model, {
    environment: env,
    accelerator: 'wasm',
    cpuOptions: {numThreads: 1},
    gpuOptions: {},
    webNNOptions: {},
  });
  const signature = model.getSignature(0);
  const inputNames = vectorToArray(signature.inputNames());
  const outputNames = vectorToArray(signature.outputNames());
  if (inputPaths.length !== inputNames.length) {
    fail(`${modelPath}: ${inputPaths.length} inputs given, signature has ${inputNames.length}`);
  }

  const buffers = [];
  for (let i = 0; i < inputNames.length; ++i) {
    let type = model.getInputTensorType(0, i);
    const elementType = type.elementType().value;
    const layout = type.layout();
    const dims = vectorToArray(layout.dimensions());
    layout.delete();
    const info = kTypes[elementType];
    if (!info) fail(`input ${inputNames[i]}: element type ${elementType} not supported`);
    const npy = readNpy(inputPaths[i]);
    if (npy.descr !== info.npy) {
      fail(`input ${inputNames[i]}: ${inputPaths[i]} has dtype ${npy.descr}, model wants ${info.npy}`);
    }
    // A dimension of -1 (dynamic batch) takes the .npy's size.
    if (npy.shape.length !== dims.length ||
        npy.shape.some((d, j) => dims[j] !== -1 && dims[j] !== d)) {
      fail(`input ${inputNames[i]}: ${inputPaths[i]} has shape [${npy.shape}], model wants [${dims}]`);
    }
    type.delete();
    const shapeVector = new wasm.VectorInt32();
    for (const d of npy.shape) shapeVector.push_back(d);
    const npyLayout = wasm.LiteRtLayout.create(shapeVector);
    shapeVector.delete();
    type = wasm.LiteRtRankedTensorType.create({value: elementType}, npyLayout);
    npyLayout.delete();
    const bytes = type.bytes();
    if (npy.data.byteLength !== bytes) {
      fail(`input ${inputNames[i]}: ${npy.data.byteLength} data bytes, model wants ${bytes}`);
    }
    const buffer = wasm.LiteRtTensorBuffer.createManaged(
        env.liteRtEnvironment, wasm.LiteRtTensorBufferType.HOST_MEMORY, type, bytes);
    type.delete();
    const dst = buffer.lock(wasm.LiteRtTensorBufferLockMode.WRITE);
    wasm.HEAPU8.set(npy.data, dst);
    buffer.unlock();
    buffers.push(buffer);
  }

  const outputs = await compiled.run(0, buffers);
  fs.mkdirSync(outDir, {recursive: true});
  for (let k = 0; k < outputs.length; ++k) {
    const buffer = outputs[k];
    const type = buffer.tensorType();
    const elementType = type.elementType().value;
    const layout = type.layout();
    const dims = vectorToArray(layout.dimensions());
    layout.delete();
    type.delete();
    const info = kTypes[elementType];
    if (!info) fail(`output ${outputNames[k]}: element type ${elementType} not supported`);
    const src = buffer.lock(wasm.LiteRtTensorBufferLockMode.READ);
    const data = wasm.HEAPU8.slice(src, src + buffer.packedSize());
    buffer.unlock();
    writeNpy(path.join(outDir, `output_${k}.npy`), info.npy, dims, data);
    buffer.delete();
  }
  for (const b of buffers) b.delete();
  process.stdout.write(JSON.stringify({inputs: inputNames, outputs: outputNames}) + '\n');
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === '--jobs') {
    if (!args[1]) fail('usage: run_litert.mjs --jobs JOBS.txt');
    const lines = fs.readFileSync(args[1], 'utf8').split('\n').filter((l) => l.trim());
    const liteRt = await loadLiteRt();
    for (const line of lines) {
      const [modelPath, outDir, ...inputPaths] = line.split('\t');
      try {
        await runOne(liteRt, modelPath, outDir, inputPaths);
      } catch (e) {
        fs.mkdirSync(outDir, {recursive: true});
        fs.writeFileSync(path.join(outDir, 'error.txt'), String(e?.stack ?? e));
      }
    }
    return;
  }
  const [modelPath, outDir, ...inputPaths] = args;
  if (!modelPath || !outDir) fail('usage: run_litert.mjs MODEL OUT_DIR IN0.npy ...');
  await runOne(await loadLiteRt(), modelPath, outDir, inputPaths);
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`run_litert: ${e instanceof JobError ? e.message : (e?.stack ?? e)}\n`);
  process.exit(1);
});
