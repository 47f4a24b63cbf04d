// Times a .tflite model in Google's LiteRT runtime (npm @litertjs/core, WASM
// CPU, 1 thread) under Node: loads and compiles the model once, fills its
// inputs with deterministic pseudo-random values, warms up, then times N
// invokes one by one and prints one JSON line of latency statistics (in
// microseconds) to stdout.
//
//   node bench/litert_bench.mjs MODEL.tflite [--batch B] [--iters N] [--warmup W]
//       [--threads T]
//
// --batch B sets dimension 0 of every input (models whose signature has a
// dynamic batch); default: the model's own shape (a -1 counts as 1).
// Output: {"model", "batch", "iters", "threads", "median_us", "mean_us",
// "p10_us", "p90_us", "min_us", "max_us", "cpu_mean_us" (process CPU time per
// invoke: the machine may be shared, and wall time then includes waits),
// "items_per_s" (batch / median)}.
// The loading shims are those of tests/interop/run_litert.mjs (see there).
// Exit status 0 on success; 1 with a message on stderr otherwise.
import fs from 'node:fs';
import path from 'node:path';

import {loadLiteRt, vectorToArray} from '../tests/interop/harness_util.mjs';

// LiteRT element type codes -> bytes per element.
const kBytes = {1: 4, 2: 4, 3: 1, 7: 2, 9: 1};

function parseArgs(argv) {
  const opts = {batch: 0, iters: 200, warmup: 20, threads: 1};
  const rest = [];
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const m = /^--(batch|iters|warmup|threads)$/.exec(a);
    if (m) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a}: expected a non-negative integer`);
      opts[m[1]] = v;
    } else {
      rest.push(a);
    }
  }
  if (rest.length !== 1) {
    throw new Error('usage: litert_bench.mjs MODEL.tflite [--batch B] [--iters N] ' +
                    '[--warmup W] [--threads T]');
  }
  opts.model = rest[0];
  return opts;
}

// Failures LiteRT only logs ("ERROR: ...") turn into an error.
const errorLines = [];
const stderrWrite = process.stderr.write.bind(process.stderr);
process.stderr.write = (chunk, ...rest) => {
  for (const line of String(chunk).split('\n')) {
    if (/^ERROR[: ]/.test(line)) errorLines.push(line);
  }
  return stderrWrite(chunk, ...rest);
};

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const liteRt = await loadLiteRt();
  const wasm = liteRt.liteRtWasm;
  const env = liteRt.getDefaultEnvironment();
  const modelBytes = fs.readFileSync(opts.model);
  const ptr = wasm._malloc(modelBytes.byteLength);
  wasm.HEAPU8.set(modelBytes, ptr);
  const model = wasm.loadModel(env.liteRtEnvironment, ptr, modelBytes.byteLength);
  const compiled = await wasm.compileModel(env.liteRtEnvironment, model, {
    environment: env,
    accelerator: 'wasm',
    cpuOptions: {numThreads: opts.threads},
    gpuOptions: {},
    webNNOptions: {},
  });
  const signature = model.getSignature(0);
  const inputNames = vectorToArray(signature.inputNames());
  let seed = 12345;
  const buffers = [];
  let batch = 1;
  for (let i = 0; i < inputNames.length; ++i) {
    const t = model.getInputTensorType(0, i);
    const elementType = t.elementType().value;
    const layout = t.layout();
    const dims = vectorToArray(layout.dimensions()).map((d) => (d === -1 ? 1 : d));
    layout.delete();
    t.delete();
    if (!kBytes[elementType]) throw new Error(`input ${inputNames[i]}: element type ${elementType}`);
    if (opts.batch > 0) dims[0] = opts.batch;
    batch = dims[0];
    const shape = new wasm.VectorInt32();
    for (const d of dims) shape.push_back(d);
    const l = wasm.LiteRtLayout.create(shape);
    shape.delete();
    const type = wasm.LiteRtRankedTensorType.create({value: elementType}, l);
    l.delete();
    const bytes = type.bytes();
    const buffer = wasm.LiteRtTensorBuffer.createManaged(
        env.liteRtEnvironment, wasm.LiteRtTensorBufferType.HOST_MEMORY, type, bytes);
    type.delete();
    const dst = buffer.lock(wasm.LiteRtTensorBufferLockMode.WRITE);
    const data = new Uint8Array(bytes);
    if (elementType === 1) {
      // float32: values in [0, 1).
      const f = new Float32Array(data.buffer);
      for (let k = 0; k < f.length; ++k) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        f[k] = (seed >>> 8) / 16777216;
      }
    } else {
      for (let k = 0; k < bytes; ++k) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        data[k] = seed >>> 24;
      }
    }
    wasm.HEAPU8.set(data, dst);
    buffer.unlock();
    buffers.push(buffer);
  }
  const invoke = async () => {
    const outputs = await compiled.run(0, buffers);
    for (const o of outputs) o.delete();
  };
  for (let i = 0; i < opts.warmup; ++i) await invoke();
  if (errorLines.length) throw new Error(`LiteRT reported: ${errorLines.join(' | ')}`);
  const samples = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < opts.iters; ++i) {
    const t0 = process.hrtime.bigint();
    await invoke();
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  if (errorLines.length) throw new Error(`LiteRT reported: ${errorLines.join(' | ')}`);
  for (const b of buffers) b.delete();
  samples.sort((a, b) => a - b);
  const median = quantile(samples, 0.5);
  const round = (x) => Math.round(x * 100) / 100;
  process.stdout.write(JSON.stringify({
    model: path.basename(opts.model),
    batch,
    iters: opts.iters,
    threads: opts.threads,
    median_us: round(median),
    mean_us: round(samples.reduce((a, b) => a + b, 0) / samples.length),
    p10_us: round(quantile(samples, 0.1)),
    p90_us: round(quantile(samples, 0.9)),
    min_us: round(samples[0]),
    max_us: round(samples[samples.length - 1]),
    cpu_mean_us: round((cpu.user + cpu.system) / opts.iters),
    items_per_s: Math.round(batch / (median / 1e6)),
  }) + '\n');
}

main().then(() => process.exit(0), (e) => {
  process.stderr.write(`litert_bench: ${e?.message ?? e}\n`);
  process.exit(1);
});
