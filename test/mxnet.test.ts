// MXNet models: the real MTCNN cascade (../shared/mxnet/mtcnn, legacy symbol and params
// formats) through Predictor.load and the MtcnnDetector, the same cascade through
// MXNet's C predict API in examples/c (a C program built with the single file) and
// examples/python (ctypes over a shared library built from it), and clean errors for
// bad MXNet files. Model-format details and op semantics are covered natively in
// test/native/test_mxnet.cc.
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { MtcnnDetector, NetliteError, Predictor, Tensor, loadImage } from '../lib';
import type { Face, RgbImage } from '../lib';

const root = path.resolve(__dirname, '..');
const mtcnnDir = process.env.NETLITE_MTCNN_DIR ?? path.resolve(root, '..', 'shared', 'mxnet', 'mtcnn');
const imagesDir = process.env.NETLITE_IMAGES_DIR ?? path.resolve(root, '..', 'shared', 'images');
const buildDir = path.join(root, 'build-examples', 'mxnet');
const cxx = process.env.CXX || 'c++';

const haveModels = fs.existsSync(path.join(mtcnnDir, 'det1-symbol.json'));
const haveImages = fs.existsSync(path.join(imagesDir, 'astronaut.png'));
let haveSharp = true;
try {
  require.resolve('sharp');
} catch {
  haveSharp = false;
}
if (!haveModels || !haveImages || !haveSharp) {
  process.stderr.write(
    `mxnet.test: skipping MTCNN tests (models ${haveModels ? 'found' : `missing at ${mtcnnDir}`}, ` +
      `images ${haveImages ? 'found' : 'missing'}, sharp ${haveSharp ? 'installed' : 'not installed'})\n`,
  );
}
const withModels = haveModels ? describe : describe.skip;
const withImages = haveModels && haveImages && haveSharp ? describe : describe.skip;

// Face points labelled by hand on the images (eyes and mouth centre, in pixels):
// a detection must contain all of them.
const labelled: Record<string, Array<[number, number]>> = {
  'astronaut.png': [[203, 100], [248, 100], [225, 145]],
  'grace_hopper.jpg': [[223, 199], [303, 194], [268, 274]],
};

function model(name: string): { symbol: string; params: string } {
  return { symbol: path.join(mtcnnDir, `${name}-symbol.json`), params: path.join(mtcnnDir, `${name}-0001.params`) };
}

async function expectCode(p: Promise<unknown> | (() => unknown), code: string, message?: RegExp): Promise<void> {
  let error: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(NetliteError);
  expect((error as NetliteError).code).toBe(code);
  if (message) expect((error as Error).message).toMatch(message);
}

function expectContainsFace(face: Face, points: Array<[number, number]>, image: RgbImage): void {
  for (const [x, y] of points) {
    expect(x).toBeGreaterThanOrEqual(face.x1);
    expect(x).toBeLessThanOrEqual(face.x2);
    expect(y).toBeGreaterThanOrEqual(face.y1);
    expect(y).toBeLessThanOrEqual(face.y2);
  }
  // A box that contains the face, not the whole picture.
  expect(face.x2 - face.x1).toBeLessThan(0.6 * image.width);
  expect(face.y2 - face.y1).toBeLessThan(0.6 * image.height);
  expect(face.score).toBeGreaterThan(0.9);
  // The eye landmarks land on the labelled eyes.
  for (let k = 0; k < 2; k++) {
    expect(Math.hypot(face.landmarks[k][0] - points[k][0], face.landmarks[k][1] - points[k][1])).toBeLessThan(15);
  }
}

function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: options.cwd ?? root, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => resolve({ code: -1, stdout, stderr: stderr + String(e) }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function writePpm(file: string, image: RgbImage, box?: { x: number; y: number; w: number; h: number }): void {
  const b = box ?? { x: 0, y: 0, w: image.width, h: image.height };
  const pixels = Buffer.alloc(b.w * b.h * 3);
  for (let y = 0; y < b.h; y++) {
    const from = ((b.y + y) * image.width + b.x) * 3;
    pixels.set(image.data.subarray(from, from + b.w * 3), y * b.w * 3);
  }
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`P6\n${b.w} ${b.h}\n255\n`), pixels]));
}

withImages('MTCNN through Predictor.load (TypeScript API)', () => {
  let detector: MtcnnDetector;
  const images: Record<string, RgbImage> = {};
  const found: Record<string, Face[]> = {};

  beforeAll(async () => {
    detector = await MtcnnDetector.load(mtcnnDir);
    for (const name of ['astronaut.png', 'grace_hopper.jpg', 'coffee.png']) {
      images[name] = await loadImage(path.join(imagesDir, name));
      found[name] = await detector.detect(images[name]);
    }
  }, 120000);
  afterAll(() => detector?.dispose());

  test.each(['astronaut.png', 'grace_hopper.jpg'])('finds the face in %s', (name) => {
    expect(found[name]).toHaveLength(1);
    expectContainsFace(found[name][0], labelled[name], images[name]);
  });

  test('finds no face in coffee.png', () => {
    expect(found['coffee.png']).toEqual([]);
  });

  test('decodes files itself and gives the same faces', async () => {
    const again = await detector.detect(path.join(imagesDir, 'astronaut.png'));
    expect(again).toEqual(found['astronaut.png']);
  });

  test('the C example (c_predict_api.h) and the Python example agree with the TypeScript detector', async () => {
    await examples;
    for (const name of ['astronaut.png', 'grace_hopper.jpg', 'coffee.png']) {
      const ppm = path.join(buildDir, `${path.parse(name).name}.ppm`);
      writePpm(ppm, images[name]);
      const r = await run(path.join(buildDir, 'mtcnn'), [mtcnnDir, ppm]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      const lines = r.stdout.split('\n').filter((l) => l.startsWith('face '));
      expect(lines).toHaveLength(found[name].length);
      lines.forEach((line, i) => {
        const [x1, y1, x2, y2, score] = line.split(' ').slice(1, 6).map(Number);
        const f = found[name][i];
        expect(Math.abs(x1 - f.x1) + Math.abs(y1 - f.y1) + Math.abs(x2 - f.x2) + Math.abs(y2 - f.y2)).toBeLessThanOrEqual(4);
        expect(score).toBeCloseTo(f.score, 2);
      });
    }
    if (!python) return;
    // O-Net through ctypes: the detected face crop is a face, a crop of coffee is not.
    const face = found['astronaut.png'][0];
    const faceCrop = path.join(buildDir, 'face.ppm');
    const [fx, fy] = [Math.max(0, Math.round(face.x1)), Math.max(0, Math.round(face.y1))];
    writePpm(faceCrop, images['astronaut.png'], { x: fx, y: fy, w: Math.round(face.x2) - fx + 1, h: Math.round(face.y2) - fy + 1 });
    const cupCrop = path.join(buildDir, 'cup.ppm');
    writePpm(cupCrop, images['coffee.png'], { x: 200, y: 100, w: 120, h: 120 });
    const py = await run(python, [path.join(root, 'examples', 'python', 'onet_score.py'), mtcnnDir, faceCrop, cupCrop], {
      env: { ...process.env, NETLITE_LIB: path.join(buildDir, 'libnetlite.so') },
    });
    expect({ code: py.code, stderr: py.stderr }).toEqual({ code: 0, stderr: '' });
    const scores = py.stdout.trim().split('\n').map((l) => Number(/face=([0-9.]+)/.exec(l)?.[1]));
    expect(scores).toHaveLength(2);
    expect(scores[0]).toBeGreaterThan(0.9);
    expect(scores[1]).toBeLessThan(0.5);
  }, 1800000);
});

withModels('MXNet models through Predictor.load', () => {
  test('paths or bytes, with input shapes: names, shapes and a batch', async () => {
    const files = model('det2');
    const p = await Predictor.load({
      symbol: fs.readFileSync(files.symbol),
      params: new Uint8Array(fs.readFileSync(files.params)),
      inputShapes: { data: [-1, 3, 24, 24] },
    });
    expect(p.inputs).toEqual([{ name: 'data', type: 'float32', shape: [-1, 3, 24, 24] }]);
    expect(p.outputs.map((o) => o.name)).toEqual(['conv5_2_output', 'prob1_output']);
    const x = new Float32Array(2 * 3 * 24 * 24).map((_, i) => Math.sin(i) * 0.9);
    const out = await p.predict({ data: new Tensor('float32', x, [2, 3, 24, 24]) });
    expect(out.prob1_output.dims).toEqual([2, 2]);
    expect(out.conv5_2_output.dims).toEqual([2, 4]);
    const prob = out.prob1_output.data as Float32Array;
    expect(prob[0] + prob[1]).toBeCloseTo(1, 5);
    expect(prob[2] + prob[3]).toBeCloseTo(1, 5);
    // The symbol as JSON text, loaded synchronously: same numbers.
    const q = Predictor.loadSync({ symbol: fs.readFileSync(files.symbol, 'utf8'), params: files.params, inputShapes: { data: [2, 3, 24, 24] } });
    expect(q.inputs[0].shape).toEqual([2, 3, 24, 24]);
    const again = q.predictSync({ data: x });
    expect(Array.from(again.prob1_output.data as Float32Array)).toEqual(Array.from(prob));
    p.dispose();
    q.dispose();
  });

  test('without input shapes, inputs take their rank and dims from each feed', async () => {
    const p = await Predictor.load(model('det1'));
    expect(p.inputs).toEqual([{ name: 'data', type: 'float32', shape: [] }]);
    expect(p.outputs.map((o) => [o.name, o.type])).toEqual([['conv4_2_output', 'float32'], ['prob1_output', 'float32']]);
    await expectCode(p.predict({ data: new Float32Array(3 * 12 * 12) }), 'ERR_SHAPE', /pass a Tensor with dims/);
    // P-Net: conv 3x3, max pool 2x2/2 "full" (ceil), conv 3x3, conv 3x3.
    const side = (n: number): number => Math.ceil((n - 2 - 2) / 2) + 1 - 4;
    for (const [h, w] of [[12, 12], [30, 50]]) {
      const out = await p.predict({ data: new Tensor('float32', new Float32Array(3 * h * w), [1, 3, h, w]) });
      expect(out.prob1_output.dims).toEqual([1, 2, side(h), side(w)]);
      expect(out.conv4_2_output.dims).toEqual([1, 4, side(h), side(w)]);
    }
    await expectCode(p.predict({ data: new Tensor('float32', new Float32Array(3 * 4 * 4), [1, 3, 4, 4]) }), 'ERR_SHAPE');
    p.dispose();
  });

  test('bad MXNet files and arguments are clean errors', async () => {
    const files = model('det2');
    const symbol = fs.readFileSync(files.symbol, 'utf8');
    const params = fs.readFileSync(files.params);
    await expectCode(Predictor.load({ symbol: symbol.slice(0, 100), params: files.params }), 'ERR_INVALID_MODEL', /JSON.*byte/);
    await expectCode(Predictor.load({ symbol: '{"heads": []}', params: files.params }), 'ERR_INVALID_MODEL', /nodes/);
    await expectCode(Predictor.load({ symbol: files.symbol, params: params.subarray(0, 5000) }), 'ERR_INVALID_MODEL', /truncated/);
    await expectCode(Predictor.load({ symbol: files.symbol, params: new Uint8Array(64) }), 'ERR_INVALID_MODEL', /not an MXNet NDArray file/);
    await expectCode(Predictor.load({ symbol: files.symbol, params: path.join(mtcnnDir, 'nope.params') }), 'ERR_IO', /nope\.params/);
    // Arguments the params file lacks are all named, with the key expected (never uninitialised memory).
    const renamed = JSON.parse(symbol) as { nodes: Array<{ op: string; name: string }> };
    for (const n of renamed.nodes) if (n.name === 'conv5_1_weight' || n.name === 'prelu4_gamma') n.name += '_x';
    await expectCode(Predictor.load({ symbol: JSON.stringify(renamed), params: files.params }), 'ERR_INVALID_MODEL',
      /2 argument\(s\)[\s\S]*'prelu4_gamma_x'[\s\S]*arg:prelu4_gamma_x[\s\S]*'conv5_1_weight_x'/);
    // Weights of another network are caught by their shapes.
    await expectCode(Predictor.load({ symbol: files.symbol, params: model('det1').params }), 'ERR_INVALID_MODEL', /num_filter=28/);
    await expectCode(Predictor.load({ symbol: files.symbol, params: files.params, inputShapes: { image: [1, 3, 24, 24] } }), 'ERR_NOT_FOUND', /'image'/);
    await expectCode(Predictor.load({ symbol: files.symbol, params: files.params, inputShapes: { data: [1, 3, 1.5] } }), 'ERR_INVALID_ARGUMENT');
    await expectCode(() => Predictor.loadSync({ symbol: files.symbol, params: files.params, weights: 1 } as never), 'ERR_INVALID_ARGUMENT', /weights/);
    await expectCode(() => Predictor.loadSync({ symbol: 42, params: files.params } as never), 'ERR_INVALID_ARGUMENT');
    // Wrong weight shapes surface at load when the input shape is fixed.
    await expectCode(Predictor.load({ symbol: files.symbol, params: files.params, inputShapes: { data: [1, 3, 30, 30] } }), 'ERR_SHAPE');
  });

  (haveSharp ? test : test.skip)('loadImage rejects undecodable bytes', async () => {
    await expectCode(loadImage(new Uint8Array([1, 2, 3, 4])), 'ERR_IO', /decode/);
  });
});

// --- building the examples (cached in build-examples/mxnet, rebuilt when the single file changes)

const python = ((): string | null => {
  const r = spawnSync('python3', ['--version']);
  if (r.error || r.status !== 0) {
    process.stderr.write('mxnet.test: python3 not found; the Python example is not run\n');
    return null;
  }
  return 'python3';
})();

async function buildExamples(): Promise<void> {
  fs.mkdirSync(buildDir, { recursive: true });
  const am = spawnSync(process.execPath, [path.join(root, 'tools', 'amalgamate.js'), '--out', buildDir], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NETLITE_AMALGAMATE_QUIET: '1' },
  });
  if (am.status !== 0) throw new Error(`amalgamate failed: ${am.stderr}`);
  const cc = path.join(buildDir, 'netlite.cc');
  const obj = path.join(buildDir, 'netlite.o');
  // The README builds each example with one c++ command; compiling the single file once
  // (position-independent, so it also makes the shared library) keeps the test fast.
  if (!fs.existsSync(obj) || fs.statSync(obj).mtimeMs < fs.statSync(cc).mtimeMs) {
    const r = await run(cxx, ['-std=c++17', '-O2', '-fPIC', '-c', cc, '-o', `${obj}.tmp`]);
    if (r.code !== 0) throw new Error(`compiling netlite.cc failed:\n${r.stderr}`);
    fs.renameSync(`${obj}.tmp`, obj);
  }
  const exe = await run(cxx, ['-std=c++17', '-O2', obj, path.join(root, 'examples', 'c', 'mtcnn.c'), '-o', path.join(buildDir, 'mtcnn'), '-lpthread']);
  if (exe.code !== 0) throw new Error(`building examples/c/mtcnn.c failed:\n${exe.stderr}`);
  const so = await run(cxx, ['-shared', '-pthread', obj, '-o', path.join(buildDir, 'libnetlite.so')]);
  if (so.code !== 0) throw new Error(`building libnetlite.so failed:\n${so.stderr}`);
}

// Started once, awaited by the tests that need it.
let examples: Promise<void> = Promise.resolve();
if (haveModels && haveImages && haveSharp) {
  examples = buildExamples();
  examples.catch(() => undefined);  // reported by the awaiting test
}

withModels('examples build from the single file', () => {
  test('examples/c/mtcnn.c is valid C99 with c_predict_api.h', async () => {
    const c = spawnSync('cc', ['--version']);
    if (c.error || c.status !== 0) return;
    const r = await run('cc', ['-std=c99', '-Wall', '-Wextra', '-pedantic', '-fsyntax-only', path.join(root, 'examples', 'c', 'mtcnn.c')]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  });
});
