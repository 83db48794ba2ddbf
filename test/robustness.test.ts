// Robustness: hostile model files, the memory limit, hostile run-time inputs, concurrency
// (promises, several predictors, worker_threads, dispose in flight), libuv pool use and a
// leak loop. See docs/robustness.md for the threat model and the bounds stated here.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';

import { NetliteError, NetliteErrorCode, Predictor, Tensor } from '../lib';
import { DataType, GraphInit, encodeModel, rawFloats, unaryModel } from './helpers/onnx-writer';

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'cjs', 'index.js');
const mnistPath = path.resolve(root, '..', 'shared', 'real', 'mnist-8', 'mnist-8.onnx');
const reluBytes = unaryModel('Relu', [4]);

/** Asserts that `fn` throws (or rejects with) a NetliteError with `code` whose message matches `text`. */
async function expectError(fn: () => unknown, code: NetliteErrorCode | NetliteErrorCode[], text?: RegExp): Promise<NetliteError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(NetliteError);
  const err = caught as NetliteError;
  expect(Array.isArray(code) ? code : [code]).toContain(err.code);
  if (text) expect(err.message).toMatch(text);
  return err;
}

/** A graph with one x:[2,4] float input and one y output, with the given nodes/initializers. */
function graph(g: Partial<GraphInit>): Uint8Array {
  return encodeModel({
    graph: {
      nodes: g.nodes ?? [],
      inputs: g.inputs ?? [{ name: 'x', elemType: DataType.FLOAT, shape: [2, 4] }],
      outputs: g.outputs ?? [{ name: 'y', elemType: DataType.FLOAT, shape: [2, 4] }],
      initializers: g.initializers,
    },
  });
}

/** Deterministic PRNG (mulberry32), so every run tries the same mutations. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Loading must succeed or fail with a NetliteError; anything else (crash, other error) fails. */
function loadCleanly(bytes: Uint8Array): Predictor | NetliteError {
  try {
    // threads: 1 keeps 500+ loads fast on a busy CI box (no intra-op pool to start and stop).
    return Predictor.loadSync(bytes, { threads: 1 });
  } catch (e) {
    if (!(e instanceof NetliteError)) throw e;
    expect(e.message.length).toBeGreaterThan(0);
    return e;
  }
}

function floats(n: number, seed: number): Float32Array {
  const r = prng(seed);
  return Float32Array.from({ length: n }, () => r() * 4 - 2);
}

/** A [1,n] -> MatMul(W [n,n]) x depth chain: slow with gemm 'reference' (n^2 * depth MACs per row). */
function matmulChain(n: number, depth: number, rows: number | string = 'N'): Uint8Array {
  const w = new Float32Array(n * n);
  for (let i = 0; i < n; i++) w[i * n + i] = 1; // identity: results stay checkable
  const nodes = Array.from({ length: depth }, (_, i) => ({
    opType: 'MatMul',
    inputs: [i === 0 ? 'x' : `t${i - 1}`, 'w'],
    outputs: [i === depth - 1 ? 'y' : `t${i}`],
  }));
  return encodeModel({
    graph: {
      nodes,
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [rows, n] }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [rows, n] }],
      initializers: [{ name: 'w', dataType: DataType.FLOAT, dims: [n, n], raw: new Uint8Array(w.buffer) }],
    },
  });
}

describe('1. hostile model files', () => {
  test('1.1 truncated at every length -> ERR_INVALID_MODEL', async () => {
    const bytes = graph({ nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }] });
    // The last 6 bytes are opset_import {domain "", version 13}: a model cut there is a valid
    // model with no opset import, which netlite reads as the default opset. Any earlier cut
    // leaves a truncated field or a model without its graph or outputs.
    const opsetStart = bytes.length - 6;
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = loadCleanly(bytes.slice(0, cut));
      if (r instanceof Predictor) r.dispose();
      if (cut === opsetStart) continue;
      expect(r).toBeInstanceOf(NetliteError);
      expect((r as NetliteError).code).toBe('ERR_INVALID_MODEL');
    }
    await expectError(() => Predictor.load(new Uint8Array(0)), 'ERR_INVALID_MODEL');
  });

  test('1.2 random bit flips and byte overwrites load or fail cleanly (500 mutants)', () => {
    const base = matmulChain(8, 2, 2);
    const rand = prng(1234);
    const seen = new Map<string, number>();
    let loaded = 0;
    for (let i = 0; i < 500; i++) {
      const m = base.slice();
      const flips = 1 + Math.floor(rand() * 4);
      for (let f = 0; f < flips; f++) {
        const at = Math.floor(rand() * m.length);
        if (rand() < 0.5) m[at] ^= 1 << Math.floor(rand() * 8);
        else m[at] = Math.floor(rand() * 256);
      }
      const r = loadCleanly(m);
      if (r instanceof Predictor) {
        loaded++;
        r.dispose();
      } else {
        seen.set(r.code, (seen.get(r.code) ?? 0) + 1);
        expect(r.code).not.toBe('ERR_INTERNAL');
      }
    }
    expect(loaded + [...seen.values()].reduce((a, b) => a + b, 0)).toBe(500);
  });

  test('1.3 a length past the end of the buffer -> ERR_INVALID_MODEL naming the offset', async () => {
    // ModelProto.graph (field 7, length-delimited) claiming 1 GB with 3 bytes present.
    const bytes = Uint8Array.from([0x08, 0x08, 0x3a, 0x80, 0x80, 0x80, 0x80, 0x04, 1, 2, 3]);
    await expectError(() => Predictor.load(bytes), 'ERR_INVALID_MODEL', /offset|truncat|past|end/i);
    // A varint that never ends.
    await expectError(() => Predictor.load(Uint8Array.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 'ERR_INVALID_MODEL');
  });

  test('1.4 negative dims in an initializer and in a declared input', async () => {
    const neg = graph({
      nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      initializers: [{ name: 'w', dataType: DataType.FLOAT, dims: [-2, 4], raw: rawFloats([1, 2, 3, 4, 5, 6, 7, 8]) }],
    });
    await expectError(() => Predictor.load(neg), 'ERR_INVALID_MODEL', /w/);
    const negInput = graph({
      nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [-5, 4] }],
    });
    // Some exporters write dim_value -1 for a free dim: netlite reads any negative declared
    // dim as free, and the run-time shape check applies to what is fed.
    const p = await Predictor.load(negInput);
    expect(p.inputs[0].shape).toEqual([-1, 4]);
    await expectError(() => p.predict({ x: new Tensor('float32', new Float32Array(6), [2, 3]) }), 'ERR_SHAPE', /x/);
    p.dispose();
  });

  test('1.5 dims whose product overflows, and a tensor claiming 2^60 elements', async () => {
    const overflow = graph({
      nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      initializers: [{ name: 'w', dataType: DataType.FLOAT, dims: [2 ** 40, 2 ** 40, 2 ** 40], raw: rawFloats([1]) }],
    });
    await expectError(() => Predictor.load(overflow), ['ERR_INVALID_MODEL', 'ERR_OUT_OF_MEMORY'], /w/);
    const huge = graph({
      nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      initializers: [{ name: 'w', dataType: DataType.FLOAT, dims: [2 ** 30, 2 ** 30] }], // 2^60 elements, no data
    });
    const before = process.memoryUsage().rss;
    await expectError(() => Predictor.load(huge), ['ERR_INVALID_MODEL', 'ERR_OUT_OF_MEMORY'], /w/);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20); // nothing near 2^62 bytes was attempted
  });

  test('1.6 raw_data whose size does not match the dims', async () => {
    const bytes = graph({
      nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      initializers: [{ name: 'w', dataType: DataType.FLOAT, dims: [2, 4], raw: rawFloats([1, 2, 3]) }],
    });
    await expectError(() => Predictor.load(bytes), 'ERR_INVALID_MODEL', /w/);
  });

  test('1.7 a graph cycle', async () => {
    const bytes = graph({
      nodes: [
        { opType: 'Add', inputs: ['x', 'b'], outputs: ['a'], name: 'n_a' },
        { opType: 'Relu', inputs: ['a'], outputs: ['b'], name: 'n_b' },
        { opType: 'Relu', inputs: ['a'], outputs: ['y'], name: 'n_y' },
      ],
    });
    await expectError(() => Predictor.load(bytes), 'ERR_INVALID_MODEL', /cycle|n_a|n_b|'b'|\ba\b/i);
  });

  test('1.8 a dangling node input / a missing initializer', async () => {
    const bytes = graph({ nodes: [{ opType: 'Add', inputs: ['x', 'nowhere'], outputs: ['y'], name: 'adder' }] });
    await expectError(() => Predictor.load(bytes), 'ERR_INVALID_MODEL', /nowhere/);
    // A Conv whose weight initializer is missing.
    const conv = encodeModel({
      graph: {
        nodes: [{ opType: 'Conv', inputs: ['x', 'W'], outputs: ['y'], name: 'conv1' }],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [1, 1, 4, 4] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1, 1, 4, 4] }],
      },
    });
    await expectError(() => Predictor.load(conv), 'ERR_INVALID_MODEL', /W/);
    // A graph output nothing produces.
    const noOut = graph({ nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['z'] }] });
    await expectError(() => Predictor.load(noOut), 'ERR_INVALID_MODEL', /y/);
  });

  test('1.9 duplicate names (two producers of one value, two initializers of one name)', async () => {
    const twoProducers = graph({
      nodes: [
        { opType: 'Relu', inputs: ['x'], outputs: ['y'], name: 'r1' },
        { opType: 'Neg', inputs: ['x'], outputs: ['y'], name: 'r2' },
      ],
    });
    await expectError(() => Predictor.load(twoProducers), 'ERR_INVALID_MODEL', /y/);
    const twoInits = graph({
      nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'] }],
      initializers: [
        { name: 'w', dataType: DataType.FLOAT, dims: [4], raw: rawFloats([1, 2, 3, 4]) },
        { name: 'w', dataType: DataType.FLOAT, dims: [4], raw: rawFloats([5, 6, 7, 8]) },
      ],
    });
    await expectError(() => Predictor.load(twoInits), 'ERR_INVALID_MODEL', /w/);
  });

  test('1.10 unknown ops and domains -> ERR_UNSUPPORTED naming the op', async () => {
    await expectError(() => Predictor.load(graph({ nodes: [{ opType: 'FrobnicateV9', inputs: ['x'], outputs: ['y'] }] })),
      'ERR_UNSUPPORTED', /FrobnicateV9/);
    await expectError(
      () => Predictor.load(graph({ nodes: [{ opType: 'Relu', domain: 'com.example.nope', inputs: ['x'], outputs: ['y'] }] })),
      ['ERR_INVALID_MODEL', 'ERR_UNSUPPORTED'], /com\.example\.nope/);
  });

  test('1.11 attributes of the wrong type', async () => {
    const perm = encodeModel({
      graph: {
        nodes: [{ opType: 'Transpose', inputs: ['x'], outputs: ['y'], attributes: { perm: { s: 'not ints' } } }],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [2, 4] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [4, 2] }],
      },
    });
    await expectError(() => Predictor.load(perm), 'ERR_INVALID_MODEL', /perm/);
    const axis = graph({ nodes: [{ opType: 'Softmax', inputs: ['x'], outputs: ['y'], attributes: { axis: { f: 1.5 } } }] });
    await expectError(() => Predictor.load(axis), 'ERR_INVALID_MODEL', /axis/);
    const badPerm = encodeModel({
      graph: {
        nodes: [{ opType: 'Transpose', inputs: ['x'], outputs: ['y'], attributes: { perm: { ints: [0, 7] } } }],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [2, 4] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [4, 2] }],
      },
    });
    await expectError(() => Predictor.load(badPerm), ['ERR_INVALID_MODEL', 'ERR_SHAPE'], /perm|Transpose/);
  });

  test('1.12 fuzzer crashers (test/fuzz/crashers) load or fail cleanly here too', () => {
    const dir = path.join(root, 'test', 'fuzz', 'crashers');
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => !f.startsWith('.') && !f.endsWith('.md')) : [];
    for (const f of files) {
      const r = loadCleanly(fs.readFileSync(path.join(dir, f)));
      if (r instanceof Predictor) r.dispose();
    }
  });
});

describe('2. memory limit', () => {
  test('2.1 weights beyond memoryLimit -> ERR_OUT_OF_MEMORY; within it loads', async () => {
    const bytes = matmulChain(256, 1); // 256 KB of weights
    await expectError(() => Predictor.load(bytes, { memoryLimit: 64 * 1024 }), 'ERR_OUT_OF_MEMORY', /limit|memory/i);
    const p = await Predictor.load(bytes, { memoryLimit: 4 << 20 });
    expect(p.memory.weightsBytes).toBeGreaterThanOrEqual(256 * 256 * 4);
    p.dispose();
  });

  test('2.2 an input shape whose arena passes memoryLimit -> ERR_OUT_OF_MEMORY at run time', async () => {
    const p = await Predictor.load(unaryModel('Relu', [1024]), { memoryLimit: 1 << 20 });
    const small = await p.predict({ x: new Tensor('float32', new Float32Array(4 * 1024), [4, 1024]) });
    expect(small.y.dims).toEqual([4, 1024]);
    await expectError(() => p.predict({ x: new Tensor('float32', new Float32Array(1024 * 1024), [1024, 1024]) }), 'ERR_OUT_OF_MEMORY');
    // The predictor still works after the refused run.
    expect((await p.predict({ x: new Tensor('float32', new Float32Array(1024), [1, 1024]) })).y.dims).toEqual([1, 1024]);
    p.dispose();
  });
});

describe('3. hostile run-time inputs', () => {
  let p: Predictor;
  beforeAll(() => {
    p = Predictor.loadSync(reluBytes);
  });
  afterAll(() => p.dispose());
  const x4 = () => new Tensor('float32', Float32Array.from([-1, 2, -3, 4]), [1, 4]);

  test('3.1 wrong names, dtypes, shapes', async () => {
    await expectError(() => p.predict({ nope: x4() }), 'ERR_NOT_FOUND', /nope/);
    await expectError(() => p.predict({ x: new Tensor('int32', Int32Array.from([1, 2, 3, 4]), [1, 4]) }), 'ERR_DTYPE', /x/);
    await expectError(() => p.predict({ x: new Tensor('float32', new Float32Array(6), [2, 3]) }), 'ERR_SHAPE', /x/);
  });

  test('3.2 a detached buffer -> clean error', async () => {
    const data = Float32Array.from([-1, 2, -3, 4]);
    const t = new Tensor('float32', data, [1, 4]);
    structuredClone(data.buffer, { transfer: [data.buffer] }); // detaches: length becomes 0
    expect(data.length).toBe(0);
    const err = await expectError(() => p.predict({ x: t }), ['ERR_SHAPE', 'ERR_INVALID_ARGUMENT'], /x|detached|elements|bytes/i);
    expect(err).toBeDefined();
  });

  test('3.3 a subarray of a larger buffer (non-zero byteOffset) gives correct results', async () => {
    const big = Float32Array.from([9, 9, 9, -1, 2, -3, 4, 9, 9]);
    const view = big.subarray(3, 7);
    expect(view.byteOffset).toBe(12);
    const r = await p.predict({ x: new Tensor('float32', view, [1, 4]) });
    expect(Array.from(r.y.data as Float32Array)).toEqual([0, 2, 0, 4]);
    // A view at an offset that is not a multiple of 4 cannot be a Float32Array; a DataView is refused.
    await expectError(() => p.predict({ x: new DataView(big.buffer) as never }), ['ERR_INVALID_ARGUMENT', 'ERR_DTYPE']);
  });

  test('3.4 NaN and Inf values flow through as IEEE values, no error and no crash', async () => {
    const add = await Predictor.load(encodeModel({
      graph: {
        nodes: [{ opType: 'Add', inputs: ['a', 'b'], outputs: ['s'] }, { opType: 'Softmax', inputs: ['s'], outputs: ['y'] }],
        inputs: [{ name: 'a', elemType: DataType.FLOAT, shape: [1, 4] }, { name: 'b', elemType: DataType.FLOAT, shape: [1, 4] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1, 4] }],
      },
    }));
    const r = await add.predict({ a: Float32Array.from([NaN, 1, Infinity, -Infinity]), b: Float32Array.from([0, 1, 0, 0]) });
    expect(r.y.data.length).toBe(4);
    const inf = await p.predict({ x: new Tensor('float32', Float32Array.from([Infinity, -Infinity, NaN, 1]), [1, 4]) });
    const y = Array.from(inf.y.data as Float32Array);
    expect(y[0]).toBe(Infinity);
    expect(y[1]).toBe(0);
    expect(y[3]).toBe(1);
    add.dispose();
  });

  test('3.5 an input shape that makes an op invalid -> ERR_SHAPE naming the node', async () => {
    const add = await Predictor.load(encodeModel({
      graph: {
        nodes: [{ opType: 'Add', inputs: ['a', 'b'], outputs: ['y'], name: 'the_add' }],
        inputs: [{ name: 'a', elemType: DataType.FLOAT, shape: ['N', 4] }, { name: 'b', elemType: DataType.FLOAT, shape: ['M', 4] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['N', 4] }],
      },
    }));
    await expectError(
      () => add.predict({ a: new Tensor('float32', new Float32Array(8), [2, 4]), b: new Tensor('float32', new Float32Array(12), [3, 4]) }),
      'ERR_SHAPE', /the_add|Add/);
    // Zero-sized dims are not an error for an elementwise op.
    const ok = await add.predict({ a: new Tensor('float32', new Float32Array(4), [1, 4]), b: new Tensor('float32', new Float32Array(12), [3, 4]) });
    expect(ok.y.dims).toEqual([3, 4]);
    add.dispose();
  });
});

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netlite-rob-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Writes a model for a child process (argv cannot carry a large one) and returns its path. */
function modelFile(name: string, bytes: Uint8Array): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, bytes);
  return file;
}

describe('4. concurrency', () => {
  const model = matmulChain(64, 3);
  const inputs = Array.from({ length: 64 }, (_, i) => new Tensor('float32', floats(((i % 5) + 1) * 64, i), [(i % 5) + 1, 64]));

  test('4.1 64 predicts in flight on one predictor and on 4 predictors equal sequential runs', async () => {
    const ref = Predictor.loadSync(model, { threads: 1 });
    const expected = inputs.map((x) => Array.from(ref.predictSync({ x }).y.data as Float32Array));
    ref.dispose();
    const one = await Predictor.load(model, { threads: 2 });
    const got = await Promise.all(inputs.map((x) => one.predict({ x })));
    got.forEach((r, i) => expect(Array.from(r.y.data as Float32Array)).toEqual(expected[i]));
    const four = await Promise.all([0, 1, 2, 3].map(() => Predictor.load(model, { threads: 1 })));
    const got4 = await Promise.all(inputs.map((x, i) => four[i % 4].predict({ x })));
    got4.forEach((r, i) => expect(Array.from(r.y.data as Float32Array)).toEqual(expected[i]));
    one.dispose();
    four.forEach((p) => p.dispose());
  });

  test('4.2 dispose() with 32 runs in flight: each run resolves correctly or rejects cleanly; later calls reject', async () => {
    const p = await Predictor.load(model, { threads: 1 });
    const expected = Array.from(p.predictSync({ x: inputs[0] }).y.data as Float32Array);
    const runs = Array.from({ length: 32 }, () => p.predict({ x: inputs[0] }).then(
      (r) => ({ ok: true as const, y: Array.from(r.y.data as Float32Array) }),
      (e: unknown) => ({ ok: false as const, e })));
    p.dispose();
    expect(p.disposed).toBe(true);
    for (const r of await Promise.all(runs)) {
      if (r.ok) expect(r.y).toEqual(expected);
      else expect((r.e as NetliteError).code).toBe('ERR_DISPOSED');
    }
    await expectError(() => p.predict({ x: inputs[0] }), 'ERR_DISPOSED');
    await expectError(() => p.predictSync({ x: inputs[0] }), 'ERR_DISPOSED');
    p.dispose(); // twice is fine
  });

  test('4.3 8 workers x 16 predicts each equal sequential results; terminating a worker mid-run is clean', async () => {
    expect(fs.existsSync(entry)).toBe(true); // npm test builds dist first
    const modelPath = modelFile('chain.onnx', model);
    const ref = Predictor.loadSync(model, { threads: 1 });
    const expected = inputs.slice(0, 16).map((x) => Array.from(ref.predictSync({ x }).y.data as Float32Array));
    ref.dispose();
    const code = `
      const { parentPort, workerData } = require('worker_threads');
      const { Predictor, Tensor } = require(${JSON.stringify(entry)});
      (async () => {
        const p = await Predictor.load(workerData.modelPath, { threads: 1 });
        const xs = workerData.inputs.map((d) => new Tensor('float32', Float32Array.from(d), [d.length / 64, 64]));
        if (workerData.forever) {
          parentPort.postMessage('running');
          for (;;) await Promise.all(xs.map((x) => p.predict({ x })));
        }
        const out = await Promise.all(xs.map((x) => p.predict({ x })));
        parentPort.postMessage(out.map((r) => Array.from(r.y.data)));
      })().catch((e) => parentPort.postMessage({ error: String((e && e.stack) || e) }));`;
    const data = inputs.slice(0, 16).map((t) => Array.from(t.data as Float32Array));
    {
      const results = await Promise.all(Array.from({ length: 8 }, async () => {
        const w = new Worker(code, { eval: true, workerData: { modelPath, inputs: data, forever: false } });
        const msg = await new Promise<unknown>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        await w.terminate();
        return msg;
      }));
      for (const r of results) expect(r).toEqual(expected);
      // Terminate workers while their runs are in flight.
      for (let i = 0; i < 3; i++) {
        const w = new Worker(code, { eval: true, workerData: { modelPath, inputs: data, forever: true } });
        await new Promise((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
        await new Promise((r) => setTimeout(r, 20 + 20 * i));
        await w.terminate();
      }
      // The main thread is unaffected.
      const p = Predictor.loadSync(model);
      expect(Array.from(p.predictSync({ x: inputs[0] }).y.data as Float32Array)).toEqual(expected[0]);
      p.dispose();
    }
  });

  test('4.5 terminating a worker with loads in flight is clean', async () => {
    // Each load reports the model's memory to V8 from its worker thread (OnProgress) before
    // its warm-up run: terminating the worker at any point of that must not crash or hang.
    // A slow warm-up (asked for; scalar GEMM, 64 rows) keeps loads in flight for a while.
    const slowPath = modelFile('slow-load.onnx', matmulChain(512, 4, 64));
    const code = `
      const { parentPort, workerData } = require('worker_threads');
      const fs = require('fs');
      const { Predictor } = require(${JSON.stringify(entry)});
      for (let i = 0; i < 3; i++) Predictor.load(workerData.slowPath, { gemm: 'reference', threads: 1, warmUp: true }).catch(() => {});
      Predictor.load(fs.readFileSync(workerData.slowPath), { threads: 2, warmUp: true }).catch(() => {});
      parentPort.postMessage('loading');`;
    for (let i = 0; i < 12; i++) {
      const w = new Worker(code, { eval: true, workerData: { slowPath } });
      await new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      await new Promise((r) => setTimeout(r, [0, 3, 10, 30, 80, 200][i % 6]));
      await w.terminate();
    }
    // The main thread is unaffected, and its own loads still report and withdraw cleanly.
    const p = await Predictor.load(slowPath, { threads: 1 });
    const x = new Tensor('float32', new Float32Array(64 * 512).fill(1), [64, 512]);
    expect(Array.from(p.predictSync({ x }).y.data as Float32Array).every((v) => v === 1)).toBe(true);
    p.dispose();
  }, 60000);

  test('4.4 process exit with runs in flight is clean', () => {
    const script = `
      const { Predictor, Tensor } = require(${JSON.stringify(entry)});
      const p = Predictor.loadSync(${JSON.stringify(modelFile('exit.onnx', matmulChain(128, 8)))}, { gemm: 'reference', threads: 1 });
      const x = new Tensor('float32', new Float32Array(64 * 128), [64, 128]);
      for (let i = 0; i < 8; i++) p.predict({ x });
      setTimeout(() => process.exit(0), 30);`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('5. libuv thread pool', () => {
  // A predict() goes straight to its predictor's run thread when that thread is free; only a run
  // that finds it busy (several in flight on one predictor) holds a libuv pool thread, for the
  // whole run. A load holds one while it reads and plans. With the default UV_THREADPOOL_SIZE=4,
  // two long runs on one predictor leave at least three pool threads for fs/dns/zlib/crypto.
  // A child script: a predictor p whose run of x takes about a second, timeRead() for an
  // fs.readFile of a small file, then `body`.
  const longRunScript = (body: string): string => `
      const fs = require('fs');
      const { Predictor, Tensor } = require(${JSON.stringify(entry)});
      const p = Predictor.loadSync(${JSON.stringify(modelFile('long.onnx', matmulChain(384, 24)))}, { gemm: 'reference', threads: 1 });
      const x = new Tensor('float32', new Float32Array(384 * 384), [384, 384]);
      const small = ${JSON.stringify(modelFile('small.onnx', reluBytes))};
      const timeRead = () => new Promise((res) => { const t = process.hrtime.bigint(); fs.readFile(small, () => res(Number(process.hrtime.bigint() - t) / 1e6)); });
      ${body}`;

  test('5.1 fs.readFile completes promptly while 2 long inferences run', async () => {
    const script = longRunScript(`
      (async () => {
        const idleReadMs = await timeRead();
        let t = process.hrtime.bigint();
        await p.predict({ x });
        const runMs = Number(process.hrtime.bigint() - t) / 1e6;
        const out = { pool: process.env.UV_THREADPOOL_SIZE || '4 (default)', runMs, idleReadMs };
        for (const n of [2, 4]) {
          const runs = Array.from({ length: n }, () => p.predict({ x }));
          await new Promise((r) => setTimeout(r, 20));
          out['readMsWith' + n] = await timeRead();
          await Promise.all(runs);
        }
        console.log(JSON.stringify(out));
        p.dispose();
      })();`);
    const env = { ...process.env };
    delete env.UV_THREADPOOL_SIZE;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env, timeout: 120000 });
    expect(r.stderr).toBe('');
    const m = JSON.parse(r.stdout.trim()) as { runMs: number; idleReadMs: number; readMsWith2: number; readMsWith4: number };
    // eslint-disable-next-line no-console
    console.log(`libuv pool (size 4): one long run ${m.runMs.toFixed(0)} ms; fs.readFile of a small file: idle ` +
      `${m.idleReadMs.toFixed(1)} ms, during 2 runs ${m.readMsWith2.toFixed(1)} ms, during 4 runs ${m.readMsWith4.toFixed(1)} ms`);
    expect(m.runMs).toBeGreaterThan(300); // the runs really are long
    // Two runs hold two of the four pool threads; the read gets one of the other two at once.
    // The bound leaves room for a loaded CI machine but is well under one run.
    expect(m.readMsWith2).toBeLessThan(Math.min(250, m.runMs / 2));
  }, 120000);

  // One predict() on a free run thread takes no pool thread at all: with a pool of one thread,
  // fs still gets it at once. (Through a libuv worker, the read would wait for the whole run.)
  test('5.2 a run on the predictor\'s own thread leaves a 1-thread libuv pool free', () => {
    const script = longRunScript(`
      (async () => {
        await p.predict({ x });
        let t = process.hrtime.bigint();
        await p.predict({ x });
        const runMs = Number(process.hrtime.bigint() - t) / 1e6;
        const run = p.predict({ x });
        await new Promise((r) => setTimeout(r, 20));
        const readMs = await timeRead();
        await run;
        console.log(JSON.stringify({ runMs, readMs }));
        p.dispose();
      })();`);
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: '1' }, timeout: 120000 });
    expect(r.stderr).toBe('');
    const m = JSON.parse(r.stdout.trim()) as { runMs: number; readMs: number };
    // eslint-disable-next-line no-console
    console.log(`libuv pool (size 1): one long run ${m.runMs.toFixed(0)} ms; fs.readFile during it ${m.readMs.toFixed(1)} ms`);
    expect(m.runMs).toBeGreaterThan(300);
    expect(m.readMs).toBeLessThan(Math.min(250, m.runMs / 2));
  }, 120000);

  // A run in flight keeps the event loop alive, in promise and in callback style, though the
  // script schedules nothing else; and a process that exits with runs in flight exits cleanly.
  test('5.3 a pending predict() keeps the process alive until it settles', () => {
    const script = longRunScript(`
      p.predict({ x }).then((out) => {
        console.log('promise settled', Object.keys(out).length);
        p.native.run({ x: { type: 'float32', dims: [384, 384], data: x.data } }, (err, outs) => {
          console.log('callback settled', err, outs.length);
          for (let i = 0; i < 3; i++) p.predict({ x });
          setTimeout(() => process.exit(0), 10);
        });
      });`);
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('promise settled 1\ncallback settled null 1\n');
  }, 120000);
});

describe('6. leaks', () => {
  test('6.1 load -> predict -> dispose 2000x keeps RSS flat (< 20 MB after warm-up)', () => {
    const script = `
      const { Predictor, Tensor } = require(${JSON.stringify(entry)});
      const fs = require('fs');
      const path = ${JSON.stringify(mnistPath)};
      const bytes = fs.existsSync(path) ? fs.readFileSync(path) : null;
      const make = () => bytes ? Predictor.loadSync(bytes, { threads: 1 }) : null;
      const x = new Tensor('float32', new Float32Array(784), [1, 1, 28, 28]);
      const once = async (i) => {
        const p = make();
        if (i % 2) p.predictSync({ Input3: x }); else await p.predict({ Input3: x });
        p.dispose();
      };
      (async () => {
        for (let i = 0; i < 300; i++) await once(i);
        global.gc(); const warm = process.memoryUsage().rss;
        const t = Date.now();
        for (let i = 0; i < 2000; i++) await once(i);
        global.gc(); const end = process.memoryUsage().rss;
        console.log(JSON.stringify({ warmMB: warm / 2 ** 20, endMB: end / 2 ** 20, ms: Date.now() - t }));
      })();`;
    if (!fs.existsSync(mnistPath)) return; // ../shared is beside the checkout in CI
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 120000 });
    expect(r.stderr).toBe('');
    const m = JSON.parse(r.stdout.trim()) as { warmMB: number; endMB: number; ms: number };
    // eslint-disable-next-line no-console
    console.log(`leak loop (mnist-8, 2000x): RSS ${m.warmMB.toFixed(1)} MB after warm-up -> ${m.endMB.toFixed(1)} MB, ${m.ms} ms`);
    expect(m.endMB - m.warmMB).toBeLessThan(20);
  }, 120000);

  test('6.2 a synchronous loop that never yields: loadSync -> predictSync -> dispose 1000x (< 20 MB)', () => {
    // Nothing here lets the event loop turn (no finalizer or GC callback runs in between):
    // before buffers from 64 KiB had their own mappings, this grew RSS by ~170 MB.
    const script = `
      const { Predictor, Tensor } = require(${JSON.stringify(entry)});
      const fs = require('fs');
      const bytes = fs.readFileSync(${JSON.stringify(mnistPath)});
      const x = new Tensor('float32', new Float32Array(784), [1, 1, 28, 28]);
      const once = () => { const p = Predictor.loadSync(bytes, { threads: 1 }); p.predictSync({ Input3: x }); p.dispose(); };
      for (let i = 0; i < 100; i++) once();
      const warm = process.memoryUsage().rss;
      for (let i = 0; i < 1000; i++) once();
      const end = process.memoryUsage().rss;
      console.log(JSON.stringify({ warmMB: warm / 2 ** 20, endMB: end / 2 ** 20 }));`;
    if (!fs.existsSync(mnistPath)) return;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120000 });
    expect(r.stderr).toBe('');
    const m = JSON.parse(r.stdout.trim()) as { warmMB: number; endMB: number };
    // eslint-disable-next-line no-console
    console.log(`sync loop (mnist-8, 1000x, no yield): RSS ${m.warmMB.toFixed(1)} -> ${m.endMB.toFixed(1)} MB`);
    expect(m.endMB - m.warmMB).toBeLessThan(20);
  }, 120000);
  test('6.3 a model\'s memory is reported to V8 as external memory, and withdrawn on dispose and on a failed load', () => {
    // (process.memoryUsage().external does not include what addons report; the addon's test
    // hook reads V8's own count.)
    // An async load reports the model's weights + arena before its warm-up run (so that the
    // GC this may start runs during the load, not in the first predict), and the model takes
    // that figure over; sync loads report it when they return. A failed load reports nothing.
    const bytes = matmulChain(1024, 2); // one shared 4 MiB weight
    const file = path.join(os.tmpdir(), `netlite-external-${process.pid}.onnx`);
    fs.writeFileSync(file, bytes);
    // 64 fixed rows through the scalar GEMM: a warm-up (asked for) of 0.1 s or more to watch the JS thread through.
    const slowFile = path.join(os.tmpdir(), `netlite-external-slow-${process.pid}.onnx`);
    fs.writeFileSync(slowFile, matmulChain(1024, 2, 64));
    const script = `
      const { Predictor } = require(${JSON.stringify(entry)});
      const { binding } = require(${JSON.stringify(path.join(root, 'dist', 'cjs', 'native.js'))});
      const fs = require('fs');
      const bytes = fs.readFileSync(${JSON.stringify(file)});
      const bad = bytes.subarray(0, bytes.length - 100);
      const ext = () => binding()._externalMemory();
      // A JS-level warm-up's zero inputs and outputs are garbage that holds external memory
      // until collected (V8 frees array buffers after a GC, off the thread): collect first.
      const settled = async () => {
        for (let i = 0; i < 3; i++) { global.gc(); await new Promise((r) => setTimeout(r, 5)); }
        return ext();
      };
      (async () => {
        const out = {};
        const e0 = ext();
        const a = await Predictor.load(${JSON.stringify(file)}, { threads: 1 });
        out.asyncPath = ext() - e0;
        out.held = a.memory.weightsBytes + a.memory.arenaBytes;
        a.dispose();
        out.afterDispose = (await settled()) - e0;
        const b = await Predictor.load(bytes, { threads: 2 });
        out.asyncBuffer = ext() - e0;
        b.dispose();
        const c = Predictor.loadSync(bytes, { threads: 1 });
        out.sync = ext() - e0;
        c.dispose();
        out.afterAll = (await settled()) - e0;
        // Reported while the load still runs (before its warm-up), not when it settles.
        let seen = 0;
        const t0 = Date.now();
        const timer = setInterval(() => { seen = Math.max(seen, ext() - e0); }, 1);
        const d = await Predictor.load(${JSON.stringify(slowFile)}, { threads: 1, gemm: 'reference', warmUp: true });
        clearInterval(timer);
        out.slowLoadMs = Date.now() - t0;
        out.seenDuringLoad = seen;
        out.slowHeld = d.memory.weightsBytes + d.memory.arenaBytes;
        d.dispose();
        const fails = [];
        for (let i = 0; i < 20; i++) fails.push(Predictor.load(bad).then(() => 'loaded', (e) => e.code));
        out.failCodes = [...new Set(await Promise.all(fails))];
        out.afterFailed = (await settled()) - e0;
        console.log(JSON.stringify(out));
      })();`;
    try {
      const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8', timeout: 120000 });
      expect(r.stderr).toBe('');
      const m = JSON.parse(r.stdout.trim()) as Record<string, number> & { failCodes: string[] };
      const slack = 256 * 1024; // the script's own small Buffers and strings
      expect(m.held).toBeGreaterThanOrEqual(4 * 2 ** 20);
      for (const k of ['asyncPath', 'asyncBuffer', 'sync']) {
        expect(Math.abs(m[k] - m.held)).toBeLessThan(slack);
      }
      for (const k of ['afterDispose', 'afterAll', 'afterFailed']) expect(Math.abs(m[k])).toBeLessThan(slack);
      expect(m.failCodes).toEqual(['ERR_INVALID_MODEL']);
      expect(m.slowLoadMs).toBeGreaterThan(50);
      expect(Math.abs(m.seenDuringLoad - m.slowHeld)).toBeLessThan(slack);
    } finally {
      fs.rmSync(file, { force: true });
      fs.rmSync(slowFile, { force: true });
    }
  }, 120000);
});
