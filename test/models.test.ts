// Golden real models: netlite's outputs against torch's (shared/models) and the ONNX
// model zoo's (shared/real/mnist-8), at 1 and 2 threads and with each GEMM backend.
// Tolerance: max|a-b| / max|b| < 1e-4 (fp32 with a different summation order), and the
// same top-5 classes.
import * as fs from 'fs';
import * as path from 'path';

import { Predictor, PredictorOptions, Tensor, buildInfo } from '../lib';
import { decodeTensor } from './helpers/onnx-tensor';

const shared = path.resolve(__dirname, '../../shared');
const modelsDir = path.join(shared, 'models');
const mnistDir = path.join(shared, 'real', 'mnist-8');
const TOLERANCE = 1e-4;

interface ModelEntry {
  name: string;
  file: string;
  input: { name: string; shape: number[]; dtype: string };
  output: { name: string; shape: number[]; dtype: string };
  reference: { input_file: string; output_file: string };
}

function readF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

function topK(a: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: a.length }, (_, i) => i)
    .sort((x, y) => a[y] - a[x])
    .slice(0, k);
}

/** Relative max error and the top-5 check, with a message that says what differs. */
function compare(got: Float32Array, want: Float32Array): { rel: number; top5: boolean; detail: string } {
  expect(got.length).toBe(want.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; ++i) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  const rel = maxDiff / (maxRef || 1);
  const k = Math.min(5, want.length);
  const g = topK(got, k);
  const w = topK(want, k);
  const top5 = g[0] === w[0] && [...g].sort().join() === [...w].sort().join();
  return { rel, top5, detail: `rel error ${rel.toExponential(2)}, top-${k} got [${g}] want [${w}]` };
}

function floatData(t: Tensor): Float32Array {
  if (!t.is('float32')) throw new Error(`expected a float32 output, got ${t.type}`);
  return t.data;
}

const haveModels = fs.existsSync(path.join(modelsDir, 'models.json'));
const entries: ModelEntry[] = haveModels
  ? (JSON.parse(fs.readFileSync(path.join(modelsDir, 'models.json'), 'utf8')) as { models: ModelEntry[] }).models
  : [];

// Which configurations each model runs in. GEMM backends are compared on SqueezeNet
// (the reference GEMM is a slow triple loop); OpenBLAS only when compiled in.
function configs(name: string): PredictorOptions[] {
  const list: PredictorOptions[] = [{ threads: 1 }, { threads: 2 }];
  if (name === 'squeezenet1_1') {
    list.push({ threads: 1, gemm: 'reference' }, { threads: 2, gemm: 'netlite' });
    if (buildInfo().openblas) list.push({ threads: 2, gemm: 'openblas' });
  }
  return list;
}

(haveModels ? describe : describe.skip)('shared/models (torch reference outputs)', () => {
  for (const entry of entries) {
    describe(entry.name, () => {
      const input = (): Float32Array => readF32(path.join(modelsDir, entry.reference.input_file));
      const want = (): Float32Array => readF32(path.join(modelsDir, entry.reference.output_file));

      for (const options of configs(entry.name)) {
        test(`matches at ${JSON.stringify(options)}`, async () => {
          const p = await Predictor.load(path.join(modelsDir, entry.file), options);
          try {
            expect(p.inputs.map((i) => i.name)).toEqual([entry.input.name]);
            expect(p.inputs[0].type).toBe('float32');
            expect(p.outputs[0].name).toBe(entry.output.name);
            expect(p.memory.weightsBytes).toBeGreaterThan(0);
            // Convolutions on netlite's GEMM: one packing workspace per thread, reserved at load.
            if (options.gemm === 'netlite') expect(p.memory.workspaceBytes).toBeGreaterThanOrEqual((options.threads ?? 1) * 65536);
            if (options.gemm === 'openblas') expect(p.memory.workspaceBytes).toBe(0);
            const out = await p.predict({ [entry.input.name]: new Tensor('float32', input(), entry.input.shape) });
            const y = out[entry.output.name];
            expect(y.dims).toEqual(entry.output.shape);
            const r = compare(floatData(y), want());
            expect({ ok: r.rel < TOLERANCE && r.top5, detail: r.detail }).toEqual({ ok: true, detail: r.detail });
          } finally {
            p.dispose();
          }
        }, 180000);
      }
    });
  }
});

const mnistSets = fs.existsSync(mnistDir)
  ? fs.readdirSync(mnistDir).filter((d) => d.startsWith('test_data_set_')).sort()
  : [];

(mnistSets.length ? describe : describe.skip)('shared/real/mnist-8 (model zoo test data)', () => {
  for (const threads of [1, 2]) {
    test(`${mnistSets.length} test sets at threads=${threads}`, async () => {
      const p = await Predictor.load(path.join(mnistDir, 'mnist-8.onnx'), { threads });
      try {
        for (const set of mnistSets) {
          const x = decodeTensor(fs.readFileSync(path.join(mnistDir, set, 'input_0.pb')));
          const y = decodeTensor(fs.readFileSync(path.join(mnistDir, set, 'output_0.pb')));
          const out = await p.predict({ [p.inputs[0].name]: new Tensor('float32', x.data, x.dims) });
          const got = out[p.outputs[0].name];
          expect(got.dims).toEqual(y.dims);
          const r = compare(floatData(got), y.data);
          expect({ set, ok: r.rel < TOLERANCE && r.top5, detail: r.detail }).toEqual({ set, ok: true, detail: r.detail });
        }
      } finally {
        p.dispose();
      }
    }, 60000);
  }
});
