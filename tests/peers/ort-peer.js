#!/usr/bin/env node
// ort-peer.js — ONNX Runtime as a peer for Kestrel's tests and benchmarks.
//
// Inputs and outputs are raw little-endian float32 files, so neither side
// needs the other's tensor format:
//
//   ort-peer.js run --model M.onnx --threads N --input NAME=FILE:1x128x128x3 ...
//               --output-dir DIR
//     runs once, writes DIR/output_<i>.f32 in graph output order and prints
//     one JSON line: {"outputs": [{"name", "shape", "file"}...]}
//
//   ort-peer.js serve --model M.onnx --threads N --input NAME=FILE:SHAPE ...
//     prints {"ready": true, ...} once warmed up, then for each line
//     "run K" on stdin runs K times and prints {"times_ms": [...]}; "quit"
//     ends. A benchmark can interleave rounds of Kestrel and ONNX Runtime so
//     machine noise falls on both alike.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const args = { mode: argv[0], inputs: [], threads: 1 };
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--model') args.model = value;
    else if (key === '--threads') args.threads = parseInt(value, 10);
    else if (key === '--output-dir') args.outputDir = value;
    else if (key === '--input') args.inputs.push(value);
    else throw new Error(`unknown option ${key}`);
  }
  if (!['run', 'serve'].includes(args.mode)) throw new Error('mode must be run or serve');
  if (!args.model) throw new Error('--model is required');
  if (!(args.threads >= 1)) throw new Error('--threads must be a positive integer');
  if (args.mode === 'run' && !args.outputDir) throw new Error('--output-dir is required');
  return args;
}

// NAME=FILE:D0xD1x... -> [name, ort.Tensor]
function loadInput(spec) {
  const eq = spec.indexOf('=');
  const colon = spec.lastIndexOf(':');
  if (eq < 1 || colon < eq) throw new Error(`bad --input '${spec}', expected NAME=FILE:SHAPE`);
  const name = spec.slice(0, eq);
  const file = spec.slice(eq + 1, colon);
  const shape = spec.slice(colon + 1).split('x').map((d) => parseInt(d, 10));
  const bytes = fs.readFileSync(file);
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== count * 4) {
    throw new Error(`${file}: ${bytes.length} bytes, shape ${shape.join('x')} needs ${count * 4}`);
  }
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return [name, new ort.Tensor('float32', data, shape)];
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const feeds = Object.fromEntries(args.inputs.map(loadInput));
  const session = await ort.InferenceSession.create(args.model, {
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
  });

  if (args.mode === 'run') {
    const results = await session.run(feeds);
    fs.mkdirSync(args.outputDir, { recursive: true });
    const outputs = session.outputNames.map((name, i) => {
      const tensor = results[name];
      const file = path.join(args.outputDir, `output_${i}.f32`);
      fs.writeFileSync(file, Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
      return { name, shape: tensor.dims, file };
    });
    process.stdout.write(JSON.stringify({ outputs }) + '\n');
    return;
  }

  for (let i = 0; i < 5; i++) await session.run(feeds);
  process.stdout.write(JSON.stringify({ ready: true, version: ort.env.versions.common, threads: args.threads }) + '\n');
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const [cmd, count] = line.trim().split(/\s+/);
    if (cmd === 'quit') break;
    if (cmd !== 'run') {
      process.stdout.write(JSON.stringify({ error: `unknown command '${cmd}'` }) + '\n');
      continue;
    }
    const times = [];
    for (let i = 0; i < Math.max(1, parseInt(count || '1', 10)); i++) {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    // ONNX Runtime's intra-op workers keep spinning for tens of
    // milliseconds after a run. Wait until they are quiet before replying,
    // so the engine measured next does not share its cores with them.
    for (let i = 0; i < 40; i++) {
      const before = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, 5));
      const used = process.cpuUsage(before);
      if (used.user + used.system < 1000) break;
    }
    process.stdout.write(JSON.stringify({ times_ms: times }) + '\n');
  }
  // ONNX Runtime's threads would keep Node alive after the last command.
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`ort-peer: ${err.message}\n`);
  process.exit(1);
});
