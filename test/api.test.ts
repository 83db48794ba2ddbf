// API behaviour and errors of the TypeScript layer and the addon, on tiny ONNX models
// written by test/helpers/onnx-writer.ts. Areas are numbered as in better-sqlite3's tests.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { types } from 'util';
import { Worker } from 'worker_threads';

import { NetliteError, NetliteErrorCode, Predictor, Tensor, buildInfo, errorCodes, version } from '../lib';
import { binding } from '../lib/native';
import { DataType, addModel, encodeModel, unaryModel } from './helpers/onnx-writer';

const root = path.resolve(__dirname, '..');
const reluBytes = unaryModel('Relu', [4]);
const addBytes = addModel(4);
// Fixed shapes, so bare typed arrays can be fed.
const fixedRelu = encodeModel({
  graph: {
    nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [2, 3] }],
    outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [2, 3] }],
  },
});
const notModel = encodeModel({
  graph: {
    nodes: [{ opType: 'Not', inputs: ['x'], outputs: ['y'] }],
    inputs: [{ name: 'x', elemType: DataType.BOOL, shape: [2, 2] }],
    outputs: [{ name: 'y', elemType: DataType.BOOL, shape: [2, 2] }],
  },
});
const shapeModel = encodeModel({
  graph: {
    nodes: [{ opType: 'Shape', inputs: ['x'], outputs: ['s'] }],
    inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', 4] }],
    outputs: [{ name: 's', elemType: DataType.INT64, shape: [2] }],
  },
});

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netlite-api-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Asserts that `fn` throws (or rejects with) a NetliteError with `code` whose message matches `text`. */
async function expectError(fn: () => unknown, code: NetliteErrorCode, text?: RegExp): Promise<NetliteError> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(NetliteError);
  const err = caught as NetliteError;
  expect(err.code).toBe(code);
  if (text) expect(err.message).toMatch(text);
  return err;
}

function floats(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; ++i) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1; // [-1, 1)
  }
  return a;
}

const relu = (a: Float32Array): number[] => Array.from(a, (v) => Math.max(0, v));

/** The elements of a float32 (or uint8/bool) tensor as numbers. */
function values(t: Tensor): number[] {
  if (t.is('int64')) throw new Error('int64 tensor: use bigints');
  return Array.from(t.data as Exclude<typeof t.data, BigInt64Array>);
}

describe('1. module', () => {
  test('1.1 version() matches package.json and netlite.h', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    expect(version()).toBe(pkg.version);
  });

  test('1.2 buildInfo() describes the build', () => {
    const info = buildInfo();
    expect(info.version).toBe(version());
    expect(typeof info.openblas).toBe('boolean');
    expect(info.text).toContain('netlite');
    expect(info.napiVersion).toBe(8);
    expect(Object.isFrozen(info)).toBe(true);
  });

  test('1.3 errorCodes lists every code, NetliteError carries one', () => {
    expect(errorCodes).toHaveLength(11);
    const e = new NetliteError('ERR_SHAPE', 'x');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('NetliteError');
    expect(e.code).toBe('ERR_SHAPE');
  });
});

describe('2. Tensor', () => {
  test('2.1 checks the array class against the type', async () => {
    expect(new Tensor('float32', new Float32Array(6), [2, 3]).dims).toEqual([2, 3]);
    expect(new Tensor('int64', new BigInt64Array(2)).dims).toEqual([2]);
    expect(new Tensor('bool', new Uint8Array(1), [1]).type).toBe('bool');
    await expectError(() => new Tensor('float32', new Int32Array(2) as unknown as Float32Array), 'ERR_DTYPE', /Float32Array/);
    await expectError(() => new Tensor('int64', new Float64Array(2) as unknown as BigInt64Array), 'ERR_DTYPE');
    await expectError(() => new Tensor('float16' as 'float32', new Float32Array(2)), 'ERR_INVALID_ARGUMENT', /float16/);
  });

  test('2.2 checks dims against the length', async () => {
    await expectError(() => new Tensor('float32', new Float32Array(7), [2, 4]), 'ERR_SHAPE', /\[2,4\]/);
    await expectError(() => new Tensor('float32', new Float32Array(2), [-1, 2]), 'ERR_INVALID_ARGUMENT');
    await expectError(() => new Tensor('float32', new Float32Array(2), [1.5, 2]), 'ERR_INVALID_ARGUMENT');
    const t = new Tensor('float32', new Float32Array(0), [0, 3]);
    expect(t.size).toBe(0);
    expect(Object.isFrozen(t.dims)).toBe(true);
  });
});

describe('3. load', () => {
  test('3.1 from bytes, ArrayBuffer and path; inputs/outputs with -1 for N', async () => {
    const file = path.join(tmp, 'add.onnx');
    fs.writeFileSync(file, addBytes);
    const copy = new Uint8Array(addBytes).buffer; // a standalone ArrayBuffer
    for (const p of [await Predictor.load(addBytes), await Predictor.load(copy), await Predictor.load(file), Predictor.loadSync(file)]) {
      expect(p.inputs).toEqual([
        { name: 'a', type: 'float32', shape: [-1, 4] },
        { name: 'b', type: 'float32', shape: [-1, 4] },
      ]);
      expect(p.outputs).toEqual([{ name: 'sum', type: 'float32', shape: [-1, 4] }]);
      expect(p.memory.weightsBytes).toBeGreaterThanOrEqual(0);
      expect(p.memory.arenaBytes).toBeGreaterThanOrEqual(0);
      expect(p.memory.workspaceBytes).toBe(0); // no matrix products: no GEMM workspaces
      expect(Object.isFrozen(p.inputs)).toBe(true);
      expect(p.disposed).toBe(false);
      p.dispose();
    }
  });

  test('3.2 garbage and truncated bytes -> ERR_INVALID_MODEL', async () => {
    await expectError(() => Predictor.load(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])), 'ERR_INVALID_MODEL');
    await expectError(() => Predictor.load(addBytes.subarray(0, addBytes.length - 7)), 'ERR_INVALID_MODEL');
    await expectError(() => Predictor.load(new Uint8Array(0)), 'ERR_INVALID_MODEL');
    expect(() => Predictor.loadSync(addBytes.subarray(0, 20))).toThrow(NetliteError);
  });

  test('3.3 a missing file -> ERR_IO naming it', async () => {
    const missing = path.join(tmp, 'no-such-model.onnx');
    await expectError(() => Predictor.load(missing), 'ERR_IO', /no-such-model/);
    await expectError(() => Predictor.loadSync(missing), 'ERR_IO');
  });

  test('3.4 bad sources and options -> ERR_INVALID_ARGUMENT', async () => {
    await expectError(() => Predictor.load(''), 'ERR_INVALID_ARGUMENT');
    await expectError(() => Predictor.load(42 as unknown as string), 'ERR_INVALID_ARGUMENT');
    await expectError(() => Predictor.load(addBytes, { threads: -1 }), 'ERR_INVALID_ARGUMENT', /threads/);
    await expectError(() => Predictor.load(addBytes, { threads: 1.5 }), 'ERR_INVALID_ARGUMENT', /threads/);
    await expectError(() => Predictor.load(addBytes, { gemm: 'fast' as 'auto' }), 'ERR_INVALID_ARGUMENT', /gemm/);
    await expectError(() => Predictor.load(addBytes, { optimize: 1 as unknown as boolean }), 'ERR_INVALID_ARGUMENT');
    await expectError(() => Predictor.load(addBytes, { memoryLimit: -5 }), 'ERR_INVALID_ARGUMENT');
    await expectError(() => Predictor.load(addBytes, { warmUp: 'yes' as unknown as boolean }), 'ERR_INVALID_ARGUMENT', /warmUp/);
    await expectError(() => Predictor.load(addBytes, { thread: 2 } as never), 'ERR_INVALID_ARGUMENT', /thread/);
  });

  test('3.5 every option is accepted', async () => {
    for (const gemm of ['auto', 'reference', 'netlite', 'openblas'] as const) {
      const warmUp = gemm !== 'netlite';
      const p = await Predictor.load(reluBytes, { threads: 2, gemm, optimize: false, memoryLimit: 0, warmUp });
      const x = floats(8, 3);
      expect(values((await p.predict({ x: new Tensor('float32', x, [2, 4]) })).y)).toEqual(relu(x));
      p.dispose();
    }
  });

  test('3.7 a model that fails on the warm-up zeros still loads with warmUp, async and sync', async () => {
    // Reshape with allowzero: the zero shape the warm-up feeds cannot hold 8 elements.
    const bytes = encodeModel({
      opset: 14,
      graph: {
        nodes: [{ opType: 'Reshape', inputs: ['x', 's'], outputs: ['y'], attributes: { allowzero: { i: 1 } } }],
        inputs: [
          { name: 'x', elemType: DataType.FLOAT, shape: [2, 4] },
          { name: 's', elemType: DataType.INT64, shape: [2] },
        ],
        outputs: [{ name: 'y', elemType: DataType.FLOAT }],
      },
    });
    const x = new Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 4]);
    for (const p of [await Predictor.load(bytes, { warmUp: true }), Predictor.loadSync(bytes, { warmUp: true })]) {
      await expect(p.predict({ x, s: new Tensor('int64', new BigInt64Array(2), [2]) })).rejects.toThrow();
      const out = await p.predict({ x, s: new Tensor('int64', BigInt64Array.from([4n, 2n]), [2]) });
      expect(out.y.dims).toEqual([4, 2]);
      expect(Array.from(out.y.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      p.dispose();
    }
  });

  test('3.6 async errors keep the caller in the stack', async () => {
    const err = await expectError(() => Predictor.load(path.join(tmp, 'missing.onnx')), 'ERR_IO');
    expect(err.stack).toContain('api.test.ts');
  });

  test('3.6b an error found by the run itself names its awaiting callers; one found in the feeds, any caller', async () => {
    // Reshape to a shape the 8 elements cannot fill: only the native run can tell.
    const bytes = encodeModel({
      opset: 14,
      graph: {
        nodes: [{ opType: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }],
        inputs: [
          { name: 'x', elemType: DataType.FLOAT, shape: [2, 4] },
          { name: 's', elemType: DataType.INT64, shape: [2] },
        ],
        outputs: [{ name: 'y', elemType: DataType.FLOAT }],
      },
    });
    const p = await Predictor.load(bytes);
    const x = new Tensor('float32', new Float32Array(8), [2, 4]);
    const callerOfPredict = async (): Promise<unknown> =>
      await p.predict({ x, s: new Tensor('int64', BigInt64Array.from([3n, 3n]), [2]) });
    const err = await expectError(callerOfPredict, 'ERR_SHAPE');
    expect(err.stack).toMatch(/NetliteError \[ERR_SHAPE\]/);
    expect(err.stack).toMatch(/at (async )?callerOfPredict/);
    expect(err.stack).toContain('api.test.ts');
    expect(err.stack).not.toContain('toNetliteError');
    // A wrong feed is found before the hop: even a caller that does not await is named.
    const notAwaiting = (): Promise<unknown> => p.predict({ x: new Tensor('float32', new Float32Array(6), [2, 3]) });
    const early = await expectError(notAwaiting, 'ERR_SHAPE');
    expect(early.stack).toContain('notAwaiting');
    p.dispose();
  });

  test('3.8 load primes predict() on zero feeds only for inputs of at most 16M elements', () => {
    // The priming (one pass through the feed checks) allocates zero arrays at the declared shape;
    // those of a huge input would only weigh on the load. [N, 4096, 4097] is 16.8M elements.
    const grownBy = (bytes: Uint8Array): number => {
      const before = process.memoryUsage().arrayBuffers;
      const p = Predictor.loadSync(bytes);
      const grown = process.memoryUsage().arrayBuffers - before;
      p.dispose();
      return grown;
    };
    expect(grownBy(unaryModel('Relu', [4096, 4097]))).toBeLessThan(8 * 1024 * 1024);
    // At the cap the zero feed is made (16M float32: 64 MiB; other buffers freed meanwhile
    // move the count by a little), which shows the measure sees one.
    expect(grownBy(unaryModel('Relu', [4096, 4096]))).toBeGreaterThan(48 * 1024 * 1024);
  });
});

describe('4. predict', () => {
  let add: Predictor;
  beforeAll(async () => {
    add = await Predictor.load(addBytes);
  });
  afterAll(() => add?.dispose());

  test('4.1 with Tensors, and a batch size that changes between runs', async () => {
    for (const n of [1, 3, 2, 5, 1]) {
      const a = floats(n * 4, n);
      const b = floats(n * 4, n + 100);
      const out = await add.predict({ a: new Tensor('float32', a, [n, 4]), b: new Tensor('float32', b, [n, 4]) });
      expect(Object.keys(out)).toEqual(['sum']);
      expect(out.sum).toBeInstanceOf(Tensor);
      expect(out.sum.type).toBe('float32');
      expect(out.sum.dims).toEqual([n, 4]);
      expect(values(out.sum)).toEqual(Array.from(a, (v, i) => Math.fround(v + b[i])));
    }
  });

  test('4.1b outputs just under, at and over 64 KiB (copied below, adopted from that size) keep their values', async () => {
    // 4095 x 4 floats = 65520 bytes, 4096 x 4 = 65536; each result must outlive the next run.
    const kept: Array<{ out: Tensor; want: number[] }> = [];
    for (const n of [4095, 4096, 20000, 4095]) {
      const a = floats(n * 4, n);
      const b = floats(n * 4, n + 3);
      const out = await add.predict({ a: new Tensor('float32', a, [n, 4]), b: new Tensor('float32', b, [n, 4]) });
      expect(out.sum.dims).toEqual([n, 4]);
      kept.push({ out: out.sum, want: Array.from(a, (v, i) => Math.fround(v + b[i])) });
    }
    for (const { out, want } of kept) expect(values(out)).toEqual(want);
  });

  test('4.2 predictSync gives the same answer', async () => {
    const a = new Tensor('float32', floats(12, 7), [3, 4]);
    const b = new Tensor('float32', floats(12, 8), [3, 4]);
    const sync = add.predictSync({ a, b });
    const async = await add.predict({ a, b });
    expect(sync.sum.dims).toEqual([3, 4]);
    expect(values(sync.sum)).toEqual(values(async.sum));
  });

  test('4.3 a bare typed array takes the model shape', async () => {
    const p = await Predictor.load(fixedRelu);
    const x = floats(6, 9);
    const out = await p.predict({ x });
    expect(out.y.dims).toEqual([2, 3]);
    expect(values(out.y)).toEqual(relu(x));
    await expectError(() => p.predict({ x: new Float32Array(5) }), 'ERR_SHAPE', /'x'/);
    await expectError(() => p.predict({ x: new Int32Array(6) }), 'ERR_DTYPE', /'x'.*float32/);
    p.dispose();
  });

  test('4.4 a bare typed array for an input with a free dim -> ERR_SHAPE', async () => {
    await expectError(() => add.predict({ a: new Float32Array(4), b: new Float32Array(4) }), 'ERR_SHAPE', /free dim/);
  });

  test('4.5 a Uint8Array feeds a bool input', async () => {
    let p: Predictor;
    try {
      p = await Predictor.load(notModel);
    } catch (e) {
      if (e instanceof NetliteError && e.code === 'ERR_UNSUPPORTED') return; // engine without Not
      throw e;
    }
    expect(p.inputs[0].type).toBe('bool');
    const out = p.predictSync({ x: Uint8Array.from([0, 1, 1, 0]) });
    expect(out.y.type).toBe('bool');
    expect(values(out.y)).toEqual([1, 0, 0, 1]);
    p.dispose();
  });

  test('4.6 int64 outputs come back as BigInt64Array', async () => {
    let p: Predictor;
    try {
      p = await Predictor.load(shapeModel);
    } catch (e) {
      if (e instanceof NetliteError && e.code === 'ERR_UNSUPPORTED') return; // engine without Shape
      throw e;
    }
    const out = await p.predict({ x: new Tensor('float32', new Float32Array(12), [3, 4]) });
    expect(out.s.type).toBe('int64');
    expect(types.isBigInt64Array(out.s.data)).toBe(true); // not instanceof: jest runs tests in a vm realm
    expect(out.s.is('int64') && Array.from(out.s.data)).toEqual([3n, 4n]);
    p.dispose();
  });

  test('4.7 zero-size batch', async () => {
    const out = await add.predict({
      a: new Tensor('float32', new Float32Array(0), [0, 4]),
      b: new Tensor('float32', new Float32Array(0), [0, 4]),
    }).catch((e: NetliteError) => e);
    // Either a clean empty result or a clean error: never a crash.
    if (out instanceof NetliteError) expect(errorCodes).toContain(out.code);
    else expect(out.sum.dims).toEqual([0, 4]);
  });
});

describe('4b. load-time plan', () => {
  test('4b.1 the first session is made at load; concurrent runs and an immediate dispose are safe', async () => {
    const x = floats(6, 11);
    const want = relu(x);
    const live = binding()._liveModels();
    for (const load of [() => Predictor.load(fixedRelu), async () => Predictor.loadSync(fixedRelu)]) {
      const p = await load();
      expect(p.memory.arenaBytes).toBeGreaterThan(0);
      const outs = await Promise.all(Array.from({ length: 8 }, () => p.predict({ x })));
      for (const out of outs) expect(values(out.y)).toEqual(want);
      expect(values(p.predictSync({ x }).y)).toEqual(want);
      p.dispose();
      (await load()).dispose(); // its ready session is freed with it
    }
    expect(binding()._liveModels()).toBe(live);
  });
});

describe('5. predict errors', () => {
  let add: Predictor;
  const t = (n: number): Tensor => new Tensor('float32', new Float32Array(n * 4), [n, 4]);
  beforeAll(async () => {
    add = await Predictor.load(addBytes);
  });
  afterAll(() => add?.dispose());

  test('5.1 an unknown input name -> ERR_NOT_FOUND naming it', async () => {
    await expectError(() => add.predict({ a: t(1), b: t(1), c: t(1) }), 'ERR_NOT_FOUND', /'c'/);
    await expectError(() => add.predictSync({ a: t(1), bee: t(1) }), 'ERR_NOT_FOUND', /'bee'/);
  });

  test('5.2 a missing input -> ERR_INVALID_ARGUMENT naming it', async () => {
    await expectError(() => add.predict({ a: t(1) }), 'ERR_INVALID_ARGUMENT', /'b'/);
    await expectError(() => add.predict({}), 'ERR_INVALID_ARGUMENT', /'a', 'b'/);
  });

  test('5.3 a wrong dtype -> ERR_DTYPE', async () => {
    const i32 = new Tensor('int32', new Int32Array(4), [1, 4]);
    await expectError(() => add.predict({ a: t(1), b: i32 }), 'ERR_DTYPE', /'b'.*float32.*int32/);
  });

  test('5.4 a wrong rank or fixed dim -> ERR_SHAPE', async () => {
    await expectError(() => add.predict({ a: new Tensor('float32', new Float32Array(4)), b: t(1) }), 'ERR_SHAPE', /'a'/);
    await expectError(() => add.predict({ a: new Tensor('float32', new Float32Array(5), [1, 5]), b: t(1) }), 'ERR_SHAPE', /\[N,4\]/);
    await expectError(() => add.predict({ a: new Tensor('float32', new Float32Array(4), [1, 1, 4]), b: t(1) }), 'ERR_SHAPE');
  });

  test('5.5 feeds that are not tensors -> ERR_INVALID_ARGUMENT', async () => {
    await expectError(() => add.predict(null as never), 'ERR_INVALID_ARGUMENT');
    await expectError(() => add.predict([t(1), t(1)] as never), 'ERR_INVALID_ARGUMENT');
    await expectError(() => add.predict({ a: [1, 2, 3, 4], b: t(1) } as never), 'ERR_INVALID_ARGUMENT', /'a'/);
  });

  test('5.6 the engine checks shapes too (inputs whose N disagree)', async () => {
    // Both feeds pass the TS checks (N is free) but cannot be added: the C side says so.
    await expectError(() => add.predict({ a: t(2), b: t(3) }), 'ERR_SHAPE');
    await expectError(() => add.predictSync({ a: t(2), b: t(3) }), 'ERR_SHAPE');
    // The predictor still works afterwards.
    expect((await add.predict({ a: t(2), b: t(2) })).sum.dims).toEqual([2, 4]);
  });

  test('5.7 the addon validates without lib/ too', () => {
    const native = binding().loadModelSync(addBytes, {});
    const f32 = (n: number) => ({ type: 'float32', dims: [n, 4], data: new Float32Array(n * 4) });
    const code = (fn: () => unknown): unknown => {
      try {
        fn();
      } catch (e) {
        return (e as { code?: unknown }).code;
      }
      return 'no error';
    };
    expect(code(() => native.runSync({ a: f32(1) }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => native.runSync({ a: f32(1), b: f32(1), z: f32(1) }))).toBe('ERR_NOT_FOUND');
    expect(code(() => native.runSync({ a: f32(1), b: { type: 'float32', dims: [1, 4], data: new Float32Array(3) } }))).toBe('ERR_SHAPE');
    expect(code(() => native.runSync({ a: f32(1), b: { type: 'float32', dims: [1, 4], data: new Int32Array(4) } }))).toBe('ERR_DTYPE');
    expect(code(() => native.runSync({ a: f32(1), b: { type: 'int32', dims: [1, 4], data: new Int32Array(4) } }))).toBe('ERR_DTYPE');
    expect(code(() => native.runSync({ a: f32(1), b: { type: 'float32', dims: [1, -4], data: new Float32Array(4) } }))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => native.runSync({ a: f32(1), b: { type: 'float32', dims: [1, 2, 2], data: new Float32Array(4) } }))).toBe('ERR_SHAPE');
    expect(code(() => native.runSync(7 as never))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => native.runSync({ a: f32(1), b: f32(1) }))).toBe('no error');
    // A foreign object as `this` is rejected, not reinterpreted.
    const runSync = native.runSync as (this: unknown, feeds: unknown) => unknown;
    expect(code(() => runSync.call({}, {}))).toBe('ERR_INVALID_ARGUMENT');
    expect(code(() => runSync.call(new Uint8Array(8), {}))).toBe('ERR_INVALID_ARGUMENT');
    native.dispose();
  });
});

describe('6. lifecycle', () => {
  test('6.1 a disposed predictor -> ERR_DISPOSED; dispose twice is a no-op', async () => {
    const p = await Predictor.load(reluBytes);
    p.dispose();
    expect(p.disposed).toBe(true);
    const x = new Tensor('float32', new Float32Array(4), [1, 4]);
    await expectError(() => p.predict({ x }), 'ERR_DISPOSED');
    await expectError(() => p.predictSync({ x }), 'ERR_DISPOSED');
    expect(() => p.dispose()).not.toThrow();
    expect(p.inputs[0].name).toBe('x'); // metadata stays readable
  });

  test('6.2 dispose() during runs: they finish, then the model is freed', async () => {
    const live = binding()._liveModels();
    const p = await Predictor.load(reluBytes);
    expect(binding()._liveModels()).toBe(live + 1);
    const x = floats(4 * 64, 5);
    const runs = Array.from({ length: 6 }, () => p.predict({ x: new Tensor('float32', x, [64, 4]) }));
    p.dispose();
    await expectError(() => p.predict({ x: new Tensor('float32', x, [64, 4]) }), 'ERR_DISPOSED');
    const results = await Promise.all(runs);
    for (const r of results) expect(values(r.y)).toEqual(relu(x));
    // The last run settled: its worker has been destroyed by now.
    await new Promise((resolve) => setImmediate(resolve));
    expect(binding()._liveModels()).toBe(live);
  });

  test('6.3 outputs outlive the predictor', async () => {
    const p = await Predictor.load(reluBytes);
    const x = floats(8, 11);
    const out = await p.predict({ x: new Tensor('float32', x, [2, 4]) });
    p.dispose();
    expect(values(out.y)).toEqual(relu(x));
  });
});

describe('7. concurrency', () => {
  test('7.1 concurrent predict() calls on one predictor give the sequential answers', async () => {
    const p = await Predictor.load(addBytes, { threads: 2 });
    const inputs = Array.from({ length: 12 }, (_, i) => {
      const n = 1 + (i % 4);
      return { a: new Tensor('float32', floats(n * 4, i), [n, 4]), b: new Tensor('float32', floats(n * 4, i + 50), [n, 4]) };
    });
    const expected = inputs.map((f) => values(p.predictSync(f).sum));
    const got = await Promise.all(inputs.map((f) => p.predict(f)));
    got.forEach((r, i) => expect(values(r.sum)).toEqual(expected[i]));
    p.dispose();
  });
});

describe('8. worker_threads', () => {
  const workerCode = (entry: string, modelPath: string, terminateEarly: boolean) => `
    const { parentPort } = require('worker_threads');
    const { Predictor, Tensor } = require(${JSON.stringify(entry)});
    (async () => {
      const p = await Predictor.load(${JSON.stringify(modelPath)});
      const x = new Tensor('float32', Float32Array.from([-1, 2, -3, 4]), [1, 4]);
      const out = await p.predict({ x });
      ${terminateEarly ? 'for (let i = 0; i < 4; i++) p.predict({ x }); // still in flight at exit' : ''}
      parentPort.postMessage(Array.from(out.y.data));
    })().catch((e) => parentPort.postMessage({ error: String(e && e.stack || e) }));
  `;

  test('8.1 load and predict in a Worker, repeatedly, with runs in flight at exit', async () => {
    const entry = path.join(root, 'dist', 'cjs', 'index.js');
    expect(fs.existsSync(entry)).toBe(true); // npm test runs build:ts first
    const modelPath = path.join(tmp, 'relu-worker.onnx');
    fs.writeFileSync(modelPath, reluBytes);
    for (let i = 0; i < 3; i++) {
      const w = new Worker(workerCode(entry, modelPath, i > 0), { eval: true });
      const msg = await new Promise<unknown>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
      expect(msg).toEqual([0, 2, 0, 4]);
      await w.terminate();
    }
  });
});

describe('9. packaging', () => {
  test('9.1 ESM import by package name', () => {
    const script =
      "import { Predictor, Tensor, NetliteError, version } from 'netlite';" +
      "import netlite from 'netlite';" +
      "if (typeof Predictor.load !== 'function' || typeof Tensor !== 'function') throw new Error('bad exports');" +
      "if (netlite.Predictor !== Predictor || !(new NetliteError('ERR_IO', 'x') instanceof netlite.NetliteError)) throw new Error('two instances');" +
      'console.log(version());';
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(version());
  });

  test('9.2 type declarations are built', () => {
    const dts = fs.readFileSync(path.join(root, 'dist', 'cjs', 'index.d.ts'), 'utf8');
    expect(dts).toContain('Predictor');
    const predictorDts = fs.readFileSync(path.join(root, 'dist', 'cjs', 'predictor.d.ts'), 'utf8');
    expect(predictorDts).toMatch(/predict\(feeds: Feeds\): Promise<Results>/);
    const code = (dts + predictorDts).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    expect(code).not.toMatch(/\bany\b/); // no `any` in public types
    expect(fs.existsSync(path.join(root, 'dist', 'esm', 'index.d.mts'))).toBe(true);
  });
});

describe('10. OpenBLAS threads', () => {
  // Threads of a child process that loads the addon, and what it sees of OPENBLAS_NUM_THREADS after.
  const probe = (env: NodeJS.ProcessEnv): { threads: number; env: string | null } => {
    const script =
      `require(${JSON.stringify(path.join(root, 'dist', 'cjs', 'index.js'))}).buildInfo();` +
      "const t = +/Threads:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1];" +
      'console.log(JSON.stringify({ threads: t, env: process.env.OPENBLAS_NUM_THREADS ?? null }));';
    const clean = { ...process.env };
    for (const v of ['OPENBLAS_NUM_THREADS', 'GOTO_NUM_THREADS', 'OMP_NUM_THREADS']) delete clean[v];
    const r = spawnSync(process.execPath, ['-e', script], { env: { ...clean, ...env }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as { threads: number; env: string | null };
  };

  (process.platform === 'linux' ? test : test.skip)('10.1 loading starts no OpenBLAS threads and leaves the environment as it was', () => {
    const quiet = probe({});
    expect(quiet.env).toBeNull();
    const chosen = probe({ OPENBLAS_NUM_THREADS: '4' });
    expect(chosen.env).toBe('4'); // the user's setting is theirs
    // Asked for 4, OpenBLAS starts min(4, cores) - 1 threads of its own; netlite's default starts none.
    if (buildInfo().openblas) expect(chosen.threads - quiet.threads).toBe(Math.min(4, os.cpus().length) - 1);
    else expect(chosen.threads).toBe(quiet.threads);
  });
});
