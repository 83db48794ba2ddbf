// The `netlite` CLI, spawned as a user runs it (node bin/netlite.js ...): --help everywhere,
// info (against models.json's op counts, parameters and GFLOPs: within 1%), classify (the real
// int8 MobileNet: espresso for coffee.png, a cat for chelsea.png; folders; JSON; a progress bar),
// bench (a small run), and errors as one line with a non-zero exit code. Also the ONNX reader
// (lib/cli/onnx-info.ts) on good, crafted and broken bytes.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { NetliteError } from '../lib';
import { readOnnxSummary } from '../lib/cli/onnx-info';
import { DataType, encodeModel } from './helpers/onnx-writer';

const root = path.resolve(__dirname, '..');
const bin = path.join(root, 'bin', 'netlite.js');
const shared = path.resolve(root, '../shared');
const images = path.join(shared, 'images');
const realDir = path.join(shared, 'real', 'mobilenet_v2_1.0_224_int8');
const int8Model = path.join(realDir, 'mobilenet_v2_1.0_224_int8_per_tensor.onnx');
const labelsFile = path.join(realDir, 'labels_imagenet_2012.txt');
const modelsDir = path.join(shared, 'models');
const haveInt8 = fs.existsSync(int8Model) && fs.existsSync(path.join(images, 'coffee.png'));
const haveModels = fs.existsSync(path.join(modelsDir, 'models.json'));
const built = fs.existsSync(path.join(root, 'dist', 'cjs', 'cli', 'main.js'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function netlite(...args: string[]): Run {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NETLITE_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** An error is one line on stderr and a non-zero exit code. */
function expectOneLineError(r: Run, code: number, message: RegExp): void {
  expect(r.code).toBe(code);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

let tmp: string;
beforeAll(() => {
  if (!built) throw new Error('dist/ is missing: run `npm run build:ts` first (npm test does it)');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netlite-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('help and usage errors', () => {
  test('netlite --help lists every command; each command has --help; --version', () => {
    const r = netlite('--help');
    expect(r.code).toBe(0);
    for (const c of ['info', 'classify', 'bench', 'serve']) expect(r.stdout).toContain(`  ${c}`);
    for (const c of ['info', 'classify', 'bench', 'serve']) {
      const h = netlite(c, '--help');
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(new RegExp(`^Usage: netlite ${c} `));
      expect(h.stdout).toContain('--help');
    }
    expect(netlite('help', 'classify').stdout).toContain('--labels FILE');
    const v = netlite('--version');
    expect(v.stdout.trim()).toBe(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  });

  test('mistakes in the command line: one line, exit code 2', () => {
    expectOneLineError(netlite('clasify'), 2, /unknown command 'clasify'/);
    expectOneLineError(netlite('classify', 'm.onnx', 'x.png', '--tpo', '3'), 2, /unknown option --tpo \(did you mean --top\?\)/);
    expectOneLineError(netlite('classify', 'm.onnx'), 2, /expected at least 2 arguments/);
    expectOneLineError(netlite('info'), 2, /missing the model file/);
    expectOneLineError(netlite('classify', 'm.onnx', 'x.png', '--top', 'five'), 2, /--top expects an integer/);
    expectOneLineError(netlite('classify', 'm.onnx', 'x.png', '--resize', 'squash'), 2, /--resize expects one of crop, stretch/);
    expectOneLineError(netlite('bench', 'm.onnx', '--threads'), 2, /--threads needs a value/);
  });

  test('runtime errors: one line, exit code 1', () => {
    expectOneLineError(netlite('info', path.join(tmp, 'missing.onnx')), 1, /^netlite info: .*does not exist/);
    fs.writeFileSync(path.join(tmp, 'junk.onnx'), 'this is not protobuf');
    expectOneLineError(netlite('info', path.join(tmp, 'junk.onnx')), 1, /netlite info: Malformed ONNX file/);
    expectOneLineError(netlite('classify', tmp, path.join(images, 'coffee.png')), 1, /is a folder, not a model file/);
  });
});

describe('the ONNX reader', () => {
  test('opsets, histogram, subgraph-free counts and initializer sizes of a crafted model', () => {
    const bytes = encodeModel({
      opset: 17,
      graph: {
        nodes: [
          { opType: 'Relu', inputs: ['x'], outputs: ['r'] },
          { opType: 'Relu', inputs: ['r'], outputs: ['r2'] },
          { opType: 'FancyOp', domain: 'com.example', inputs: ['r2', 'w'], outputs: ['y'] },
        ],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: ['N', 4] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: ['N', 4] }],
        initializers: [{ name: 'w', dataType: DataType.FLOAT, dims: [2, 4], floats: [0, 1, 2, 3, 4, 5, 6, 7] }],
      },
    });
    const s = readOnnxSummary(bytes);
    expect(s.opsets).toEqual([{ domain: '', version: 17 }]);
    expect([...s.opCounts]).toEqual([['Relu', 2], ['com.example:FancyOp', 1]]);
    expect(s.parameterCount).toBe(8);
    expect(s.parameterBytes).toBe(32);
    expect(s.inputs).toEqual([{ name: 'x', elemType: 1, dims: ['N', 4] }]);
  });

  test('truncated and corrupted bytes raise ERR_INVALID_MODEL, never anything else', () => {
    const bytes = encodeModel({
      graph: {
        nodes: [{ opType: 'Relu', inputs: ['x'], outputs: ['y'] }],
        inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [4] }],
        outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [4] }],
      },
    });
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 400; i++) {
      const b = Uint8Array.from(bytes.subarray(0, i < 100 ? i : bytes.length));
      if (i >= 100) b[next() % b.length] = next() % 256;
      try {
        readOnnxSummary(b);
      } catch (e) {
        expect(e).toBeInstanceOf(NetliteError);
        expect((e as NetliteError).code).toBe('ERR_INVALID_MODEL');
      }
    }
  });
});

(haveModels ? describe : describe.skip)('netlite info', () => {
  const entries = haveModels
    ? (JSON.parse(fs.readFileSync(path.join(modelsDir, 'models.json'), 'utf8')) as {
        models: { name: string; file: string; opset: number; params: number; gflops: number; onnx_op_counts: Record<string, number> }[];
      }).models
    : [];

  test.each(entries.filter((e) => e.name !== 'resnet18').map((e) => [e.name, e]))('%s --json agrees with models.json', (_name, e) => {
    const r = netlite('info', path.join(modelsDir, e.file), '--json', '--threads', '2');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.opsets).toEqual([{ domain: 'ai.onnx', version: e.opset }]);
    expect(info.ops).toEqual(e.onnx_op_counts);
    expect(info.unsupportedOps).toEqual({});
    // torch counts BatchNorm parameters the export folds into the convolutions: close, not equal.
    expect(Math.abs(info.parameters - e.params) / e.params).toBeLessThan(0.01);
    expect(Math.abs(info.flops / 1e9 - e.gflops) / e.gflops).toBeLessThan(0.01);
    expect(info.memory.weightsBytes).toBeGreaterThan(0);
    expect(info.memory.arenaBytes).toBeGreaterThan(0);
    expect(info.inputs).toEqual([{ name: 'input', type: 'float32', shape: [1, 3, 224, 224] }]);
  });

  test('the table: inputs, outputs, opset, parameters, FLOPs, memory, op histogram', () => {
    const r = netlite('info', path.join(modelsDir, 'mobilenet_v2.onnx'));
    expect(r.code).toBe(0);
    for (const line of [
      /^opset\s+ai\.onnx 13$/m,
      /^inputs\s+input  float32 \[1,3,224,224\]$/m,
      /^outputs\s+output  float32 \[1,1000\]$/m,
      /^parameters\s+3,487,886/m,
      /^FLOPs\s+601\.5 M per run/m,
      /^memory\s+weights 13\.3 MiB once, \+ activations .* per concurrent run/m,
      /^ops\s+170 nodes, 7 op types; all supported by netlite$/m,
      /^Conv\s+52\s+599\.0 M\s+ok$/m,
    ]) {
      expect(r.stdout).toMatch(line);
    }
  });

  test('a model with ops netlite lacks: listed as unsupported, the load error on stderr, exit code 1', () => {
    const file = path.join(tmp, 'unsupported.onnx');
    fs.writeFileSync(
      file,
      encodeModel({
        graph: {
          nodes: [
            { opType: 'Relu', inputs: ['x'], outputs: ['r'] },
            { opType: 'NotARealOp', inputs: ['r'], outputs: ['y'] },
          ],
          inputs: [{ name: 'x', elemType: DataType.FLOAT, shape: [1, 4] }],
          outputs: [{ name: 'y', elemType: DataType.FLOAT, shape: [1, 4] }],
        },
      }),
    );
    const r = netlite('info', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ops\s+2 nodes, 2 op types; 1 unsupported: NotARealOp$/m);
    expect(r.stdout).toMatch(/^NotARealOp\s+1\s+not implemented$/m);
    expect(r.stdout).toMatch(/^load\s+FAILED: ERR_UNSUPPORTED/m);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const j = JSON.parse(netlite('info', file, '--json').stdout);
    expect(j.unsupportedOps).toEqual({ NotARealOp: 'not implemented' });
    expect(j.loadError.code).toBe('ERR_UNSUPPORTED');
  });
});

(haveInt8 ? describe : describe.skip)('netlite classify and bench with the real int8 MobileNet', () => {
  const coffee = path.join(images, 'coffee.png');
  const chelsea = path.join(images, 'chelsea.png');

  test('espresso for coffee.png, a cat for chelsea.png: the table with per-image times', () => {
    const r = netlite('classify', int8Model, coffee, chelsea, '--labels', labelsFile, '--top', '3', '--threads', '2');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^input  uint8 NHWC \[N,224,224,3\] RGB, raw 0-255, crop$/m);
    expect(r.stdout).toMatch(/^image\s+#\s+class\s+score\s+decode ms\s+infer ms$/m);
    expect(r.stdout).toMatch(/coffee\.png\s+1\s+espresso\s+9\d\.\d%\s+[\d.]+\s+[\d.]+$/m);
    expect(r.stdout).toMatch(/chelsea\.png\s+1\s+(tabby|tiger cat|Egyptian cat)\s+\d+\.\d+%/m);
    expect(r.stdout).toMatch(/^2 images in [\d.]+ s; per image \(median\): decode [\d.]+ ms, inference [\d.]+ ms$/m);
  });

  test('--json, a folder, a batch of 2, and a bad file among good ones (exit 1, the others still classified)', () => {
    const dir = path.join(tmp, 'photos');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(coffee, path.join(dir, 'a-coffee.png'));
    fs.copyFileSync(chelsea, path.join(dir, 'b-chelsea.png'));
    fs.writeFileSync(path.join(dir, 'c-broken.jpg'), 'not a jpeg');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'ignored: not an image extension');
    const r = netlite('classify', int8Model, dir, '--labels', labelsFile, '--json', '--batch', '2', '--top', '2');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('netlite classify: 1 of 3 images could not be classified');
    const j = JSON.parse(r.stdout);
    expect(j.results.map((x: { image: string }) => path.basename(x.image))).toEqual(['a-coffee.png', 'b-chelsea.png', 'c-broken.jpg']);
    expect(j.results[0].predictions[0]).toMatchObject({ index: 967, label: 'espresso' });
    expect(j.results[0].predictions).toHaveLength(2);
    expect(j.results[0].inferenceMs).toBeGreaterThan(0);
    expect(j.results[2].error).toMatch(/Cannot decode .*c-broken\.jpg/);
  });

  test('a progress bar on stderr when asked (or on a terminal with many images)', () => {
    const r = netlite('classify', int8Model, coffee, chelsea, coffee, '--progress', '--top', '1');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\[#+\] 3\/3/);
    expect(r.stdout).toMatch(/#967/);
  });

  test('a missing image: reported in its row, exit 1', () => {
    const r = netlite('classify', int8Model, path.join(tmp, 'nope.jpg'), '--labels', labelsFile);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/nope\.jpg\s+error: Cannot read image .*ENOENT/);
  });

  test('the torchvision float models take the photos with --normalize imagenet', () => {
    if (!haveModels) return;
    const r = netlite('classify', path.join(modelsDir, 'squeezenet1_1.onnx'), coffee, chelsea, '--normalize', 'imagenet', '--labels', labelsFile, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.input.preprocessing).toBe('float32 NCHW [1,3,224,224] RGB, imagenet, crop');
    expect(j.results).toHaveLength(2);
    expect(j.results[1].predictions).toHaveLength(5);
    // A fixed batch of 1 cannot take --batch 2.
    expectOneLineError(netlite('classify', path.join(modelsDir, 'squeezenet1_1.onnx'), coffee, '--batch', '2'), 2, /exactly 1 image per run/);
  });

  test('bench: latency distribution, throughput and memory per threads x batch; progress bar', () => {
    const r = netlite('bench', int8Model, '--threads', '1,2', '--batch', '1,2', '--runs', '4', '--warmup', '1', '--json', '--progress');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.results).toHaveLength(4);
    for (const row of j.results) {
      expect(row.runs).toBe(4);
      expect(row.minMs).toBeGreaterThan(0);
      expect(row.medianMs).toBeGreaterThanOrEqual(row.minMs);
      expect(row.p90Ms).toBeGreaterThanOrEqual(row.medianMs);
      expect(row.p99Ms).toBeGreaterThanOrEqual(row.p90Ms);
      expect(row.throughput).toBeGreaterThan(0);
      expect(row.weightsBytes).toBeGreaterThan(0);
    }
    expect(j.results.map((x: { threads: number; batch: number }) => `${x.threads}x${x.batch}`)).toEqual(['1x1', '1x2', '2x1', '2x2']);
    expect(r.stderr).toMatch(/\[#+\] 20\/20/);
    const t = netlite('bench', int8Model, '--threads', '1', '--runs', '2', '--warmup', '0');
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^threads\s+batch\s+runs\s+min\s+median\s+p90\s+p99\s+mean\s+items\/s\s+RSS$/m);
  });
});
