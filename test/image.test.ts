// Preprocessing (lib/image.ts) and labels/top-k (lib/labels.ts): what is inferred from a model
// input, the normalisation presets value by value on raw pixels (exact, up to float32
// rounding: 1e-6), decoding JPEG/PNG/WebP/grey/RGBA through sharp, batches, errors; and the
// real int8 MobileNet on the shared photos (espresso, a cat).
import * as fs from 'fs';
import * as path from 'path';

import {
  NetliteError,
  Predictor,
  Tensor,
  imageToTensor,
  loadLabels,
  normalizePresets,
  parseLabels,
  resolvePreprocessing,
  topK,
} from '../lib';

const shared = path.resolve(__dirname, '../../shared');
const images = path.join(shared, 'images');
const realDir = path.join(shared, 'real', 'mobilenet_v2_1.0_224_int8');
const int8Model = path.join(realDir, 'mobilenet_v2_1.0_224_int8_per_tensor.onnx');
const labelsFile = path.join(realDir, 'labels_imagenet_2012.txt');
const haveImages = fs.existsSync(path.join(images, 'coffee.png'));
const haveInt8 = haveImages && fs.existsSync(int8Model);
const haveModels = haveImages && fs.existsSync(path.join(shared, 'models', 'mobilenet_v2.onnx'));

// eslint-disable-next-line @typescript-eslint/no-var-requires
const sharp = require('sharp') as (input: string | Uint8Array, o?: object) => {
  webp(): { toBuffer(): Promise<Buffer> };
  greyscale(): { png(): { toBuffer(): Promise<Buffer> } };
  ensureAlpha(): { png(): { toBuffer(): Promise<Buffer> } };
  png(): { toBuffer(): Promise<Buffer> };
};

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(NetliteError);
  await p.catch((e: NetliteError) => {
    expect(e.code).toBe(code);
    if (message) expect(e.message).toMatch(message);
  });
}

const nchw = { type: 'float32', shape: [1, 3, 224, 224] };
const nhwcU8 = { type: 'uint8', shape: [-1, 224, 224, 3] };

describe('resolvePreprocessing infers from the model input', () => {
  test('NCHW float32 [1,3,224,224]: layout, size, dtype, ImageNet normalisation, batch 1', () => {
    const p = resolvePreprocessing(nchw);
    expect(p).toMatchObject({ layout: 'NCHW', height: 224, width: 224, channels: 3, dtype: 'float32', normalizeName: 'imagenet', batch: 1, resize: 'crop' });
  });

  test('NHWC uint8 [N,224,224,3]: raw pixels, any batch', () => {
    expect(resolvePreprocessing(nhwcU8)).toMatchObject({ layout: 'NHWC', dtype: 'uint8', normalizeName: 'raw', batch: -1 });
  });

  test('a free channel dim next to a fixed 3 picks the 3; grey inputs get one channel', () => {
    expect(resolvePreprocessing({ type: 'float32', shape: [-1, 3, -1, -1] }, { size: 32 }).layout).toBe('NCHW');
    expect(resolvePreprocessing({ type: 'float32', shape: [-1, -1, -1, 3] }, { size: [20, 30] })).toMatchObject({ layout: 'NHWC', height: 20, width: 30 });
    expect(resolvePreprocessing({ type: 'float32', shape: [1, 1, 28, 28] })).toMatchObject({ channels: 1, layout: 'NCHW' });
  });

  test('what cannot be inferred must be given, and the message names the option', () => {
    expect(() => resolvePreprocessing({ type: 'float32', shape: [1, 3, -1, -1] })).toThrow(/pass size/);
    expect(() => resolvePreprocessing({ type: 'float32', shape: [1, 3, 3, 3] })).toThrow(/NCHW or NHWC: pass layout/);
    expect(resolvePreprocessing({ type: 'float32', shape: [1, 3, 3, 3] }, { layout: 'NHWC' }).layout).toBe('NHWC');
    expect(() => resolvePreprocessing(null)).toThrow(/pass size/);
    expect(resolvePreprocessing(null, { size: 8 })).toMatchObject({ layout: 'NCHW', dtype: 'float32', batch: -1 });
  });

  test('options the input contradicts are refused', () => {
    const bad: [object, object, RegExp][] = [
      [nchw, { layout: 'NHWC' }, /does not fit/],
      [nchw, { dtype: 'uint8' }, /does not fit/],
      [nchw, { size: 100 }, /does not fit/],
      [nchw, { channels: 1 }, /does not fit/],
      [nhwcU8, { normalize: 'imagenet' }, /raw/],
      [nchw, { normalize: 'nope' }, /Unknown normalize preset/],
      [nchw, { colour: 'RGB' }, /Unknown option 'colour'/],
      [nchw, { crop: 1.5 }, /crop/],
      [nchw, { normalize: { mean: [1, 2] } }, /mean/],
      [nchw, { normalize: { std: 0 } }, /std/],
      [{ type: 'int64', shape: [1, 3, 4, 4] }, {}, /float32 or uint8/],
      [{ type: 'float32', shape: [1, 5, 4, 4] }, {}, /channel dim/],
      [{ type: 'float32', shape: [1, 3, 4] }, {}, /4-D/],
    ];
    for (const [input, options, message] of bad) {
      expect(() => resolvePreprocessing(input as never, options as never)).toThrow(message);
    }
  });

  test('a model with several image inputs needs options.input', () => {
    const model = { inputs: [{ name: 'a', ...nchw }, { name: 'b', ...nchw }] };
    expect(() => resolvePreprocessing(model)).toThrow(/several image inputs/);
    expect(resolvePreprocessing(model, { input: 'b' }).input).toBe('b');
    expect(() => resolvePreprocessing(model, { input: 'c' })).toThrow(/no input named 'c'/);
  });
});

describe('imageToTensor on raw pixels: presets, layouts, channel order', () => {
  // 2x1 pixels: (10, 20, 30) and (200, 100, 0). Same size in and out: no resampling.
  const raw = { width: 2, height: 1, data: Uint8Array.from([10, 20, 30, 200, 100, 0]) };
  const px = [
    [10, 20, 30],
    [200, 100, 0],
  ];
  const opts = { size: [1, 2] as [number, number], resize: 'stretch' as const };

  function expected(norm: { scale: number; mean: number | readonly number[]; std: number | readonly number[] }, order: number[]): number[][] {
    const m = typeof norm.mean === 'number' ? [norm.mean, norm.mean, norm.mean] : norm.mean;
    const s = typeof norm.std === 'number' ? [norm.std, norm.std, norm.std] : norm.std;
    // [pixel][tensor channel]
    return px.map((p) => order.map((c) => (p[c] * norm.scale - m[c]) / s[c]));
  }

  test.each(Object.keys(normalizePresets))('preset %s, NCHW and NHWC', async (name) => {
    const preset = normalizePresets[name as keyof typeof normalizePresets];
    const want = expected(preset, [0, 1, 2]);
    const a = await imageToTensor(raw, null, { ...opts, normalize: name as never, layout: 'NCHW' });
    expect(a.dims).toEqual([1, 3, 1, 2]);
    const b = await imageToTensor(raw, null, { ...opts, normalize: name as never, layout: 'NHWC' });
    expect(b.dims).toEqual([1, 1, 2, 3]);
    for (let p = 0; p < 2; p++) {
      for (let c = 0; c < 3; c++) {
        expect(a.data[c * 2 + p]).toBeCloseTo(want[p][c], 5);
        expect(b.data[p * 3 + c]).toBeCloseTo(want[p][c], 5);
      }
    }
  });

  test('BGR reverses the channels and the per-colour mean/std with them', async () => {
    const norm = { scale: 1, mean: [1, 2, 3], std: [1, 2, 4] };
    const t = await imageToTensor(raw, null, { ...opts, normalize: norm, channelOrder: 'BGR', layout: 'NHWC' });
    const want = expected(norm, [2, 1, 0]);
    expect(Array.from(t.data)).toEqual(want.flat().map((v) => Math.fround(v)));
  });

  test("MXNet's single mean 117 and uint8 output", async () => {
    const t = await imageToTensor(raw, null, { ...opts, normalize: { mean: 117 } });
    expect(Array.from(t.data)).toEqual([10 - 117, 200 - 117, 20 - 117, 100 - 117, 30 - 117, 0 - 117]);
    const u = await imageToTensor(raw, null, { ...opts, dtype: 'uint8', layout: 'NHWC' });
    expect(u.type).toBe('uint8');
    expect(Array.from(u.data)).toEqual([10, 20, 30, 200, 100, 0]);
  });

  test('RGBA drops alpha; grey input fills every channel; an RGB image into a grey input', async () => {
    const rgba = { width: 1, height: 1, data: Uint8Array.from([9, 8, 7, 0]), channels: 4 as const };
    expect(Array.from((await imageToTensor(rgba, null, { size: 1, normalize: 'raw' })).data)).toEqual([9, 8, 7]);
    const grey = { width: 1, height: 1, data: Uint8Array.from([50]), channels: 1 as const };
    expect(Array.from((await imageToTensor(grey, null, { size: 1, normalize: 'raw' })).data)).toEqual([50, 50, 50]);
    const g = await imageToTensor(raw, { type: 'float32', shape: [1, 1, 1, 2] }, { normalize: 'raw', resize: 'stretch' });
    expect(g.dims).toEqual([1, 1, 1, 2]);
    expect(g.data[0]).toBeGreaterThan(10);
    expect(g.data[0]).toBeLessThan(30);
  });

  test('bad raw images are refused', async () => {
    await rejectsWith(imageToTensor({ width: 2, height: 2, data: new Uint8Array(5) }, null, { size: 2 }), 'ERR_INVALID_ARGUMENT', /bytes of data/);
    await rejectsWith(imageToTensor({ width: 5000, height: 5000, data: new Uint8Array(0) }, null, { size: 2, maxPixels: 1000 }), 'ERR_INVALID_ARGUMENT');
    await rejectsWith(imageToTensor([], null, { size: 2 }), 'ERR_INVALID_ARGUMENT', /at least one/);
    await rejectsWith(imageToTensor(42 as never, null, { size: 2 }), 'ERR_INVALID_ARGUMENT');
  });
});

(haveImages ? describe : describe.skip)('imageToTensor decodes files and bytes with sharp', () => {
  const coffee = path.join(images, 'coffee.png');

  test('PNG path, JPEG path, WebP bytes, grey PNG and RGBA PNG all give the model-shaped tensor', async () => {
    const webp = await sharp(coffee).webp().toBuffer();
    const grey = await sharp(coffee).greyscale().png().toBuffer();
    const rgba = await sharp(coffee).ensureAlpha().png().toBuffer();
    for (const src of [coffee, path.join(images, 'grace_hopper.jpg'), webp, grey, rgba]) {
      const t = await imageToTensor(src, nchw);
      expect(t.dims).toEqual([1, 3, 224, 224]);
      expect(t.type).toBe('float32');
      let min = Infinity;
      let max = -Infinity;
      for (const v of t.data as Float32Array) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      // ImageNet-normalised pixels lie in [-2.12, 2.64].
      expect(min).toBeGreaterThanOrEqual(-2.2);
      expect(max).toBeLessThanOrEqual(2.7);
      expect(max - min).toBeGreaterThan(1);
    }
  });

  test('a grey PNG decodes to equal R, G and B planes', async () => {
    const grey = await sharp(coffee).greyscale().png().toBuffer();
    const t = await imageToTensor(grey, null, { size: 16, normalize: 'raw' });
    const plane = 16 * 16;
    for (let i = 0; i < plane; i += 17) {
      expect(t.data[i]).toBe(t.data[plane + i]);
      expect(t.data[i]).toBe(t.data[2 * plane + i]);
    }
  });

  test('a batch stacks the images in order, each as converted alone', async () => {
    const chelsea = path.join(images, 'chelsea.png');
    const both = await imageToTensor([coffee, chelsea], nhwcU8);
    expect(both.dims).toEqual([2, 224, 224, 3]);
    const one = await imageToTensor(chelsea, nhwcU8);
    expect(Buffer.from(both.data.subarray(224 * 224 * 3) as Uint8Array).equals(Buffer.from(one.data as Uint8Array))).toBe(true);
  });

  test('crop, crop fraction and stretch differ as they should', async () => {
    const opts = { size: 64, normalize: 'raw' as const };
    const crop = await imageToTensor(coffee, null, opts);
    const tighter = await imageToTensor(coffee, null, { ...opts, crop: 0.5 });
    const stretch = await imageToTensor(coffee, null, { ...opts, resize: 'stretch' });
    const differs = (a: Tensor, b: Tensor): boolean => a.data.some((v, i) => v !== b.data[i]);
    expect(differs(crop, tighter)).toBe(true);
    expect(differs(crop, stretch)).toBe(true);
  });

  test('errors: missing file ERR_IO, not an image ERR_INVALID_ARGUMENT, fixed batch ERR_SHAPE, pixel limit', async () => {
    await rejectsWith(imageToTensor(path.join(images, 'missing.png'), nchw), 'ERR_IO', /ENOENT/);
    await rejectsWith(imageToTensor(Buffer.from('not an image at all'), nchw), 'ERR_INVALID_ARGUMENT', /not a JPEG, PNG, WebP/);
    await rejectsWith(imageToTensor(path.join(images, 'PROVENANCE.txt'), nchw), 'ERR_INVALID_ARGUMENT', /PROVENANCE/);
    await rejectsWith(imageToTensor([coffee, coffee], nchw), 'ERR_SHAPE', /exactly 1 image/);
    await rejectsWith(imageToTensor(coffee, nchw, { maxPixels: 1000 }), 'ERR_INVALID_ARGUMENT', /more than 1000 pixels/);
  });
});

test('without sharp, decoding fails with a message that says how to install it', async () => {
  let image: typeof import('../lib/image') | undefined;
  jest.isolateModules(() => {
    jest.doMock('sharp', () => {
      throw new Error("Cannot find module 'sharp'");
    });
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    image = require('../lib/image') as typeof import('../lib/image');
  });
  const lib = image as typeof import('../lib/image');
  expect(lib.hasImageDecoder()).toBe(false);
  const p = lib.imageToTensor(Buffer.from([1, 2, 3]), null, { size: 2 });
  await expect(p).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED' });
  await expect(p).rejects.toThrow(/optional dependency 'sharp'.*npm install sharp/);
  jest.dontMock('sharp');
});

describe('labels and topK', () => {
  test('plain, synset.txt, CRLF, trailing newline, JSON array and imagenet_class_index.json', () => {
    expect(parseLabels('cat\ndog\n')).toEqual(['cat', 'dog']);
    expect(parseLabels('cat\r\n\r\ndog')).toEqual(['cat', '', 'dog']);
    expect(parseLabels('n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n')).toEqual([
      'tench, Tinca tinca',
      'goldfish, Carassius auratus',
    ]);
    expect(parseLabels('["a", "b"]')).toEqual(['a', 'b']);
    expect(parseLabels('{"1": ["n02", "b"], "0": ["n01", "a"]}')).toEqual(['a', 'b']);
    expect(() => parseLabels('{"x": 1}')).toThrow(/JSON labels/);
  });

  test('loadLabels reads the shared labels (1000, no final newline) and reports a missing file', () => {
    if (fs.existsSync(labelsFile)) {
      const labels = loadLabels(labelsFile);
      expect(labels).toHaveLength(1000);
      expect(labels[967]).toBe('espresso');
    }
    expect(() => loadLabels('/nonexistent/labels.txt')).toThrow(expect.objectContaining({ code: 'ERR_IO' }));
  });

  test('top-k ranks, applies softmax to logits only, and labels or numbers the classes', () => {
    const logits = new Tensor('float32', Float32Array.from([1, 3, 2, -1, 0, 5, 4, 4.5]), [2, 4]);
    const [a, b] = topK(logits, { k: 2, labels: ['w', 'x', 'y', 'z'] });
    expect(a.map((p) => p.label)).toEqual(['x', 'y']);
    expect(b.map((p) => p.index)).toEqual([1, 3]);
    expect(a[0].score).toBeCloseTo(Math.exp(3) / (Math.exp(1) + Math.exp(3) + Math.exp(2) + Math.exp(-1)), 6);
    // Already probabilities (a quantized softmax sums a little under 1): kept as they are.
    const probs = new Tensor('float32', Float32Array.from([0.1, 0.8, 0.05, 0.0]), [1, 4, 1, 1]);
    const [p] = topK(probs, { k: 10 });
    expect(p).toHaveLength(4);
    expect(p[0]).toEqual({ index: 1, label: '#1', score: Math.fround(0.8) });
    expect(topK(probs, { softmax: true })[0][0].score).toBeLessThan(0.5);
    expect(topK(new Tensor('float32', Float32Array.from([2, 1])), { softmax: false })[0][0].score).toBe(2);
    expect(() => topK(new Tensor('float32', new Float32Array(8), [2, 2, 2]))).toThrow(expect.objectContaining({ code: 'ERR_SHAPE' }));
    expect(() => topK(logits, { k: 0 })).toThrow(/positive integer/);
  });
});

(haveInt8 ? describe : describe.skip)('the real int8 MobileNet on the shared photos', () => {
  let predictor: Predictor;
  const labels = haveInt8 ? loadLabels(labelsFile) : [];
  beforeAll(async () => {
    predictor = await Predictor.load(int8Model, { threads: 2 });
  });
  afterAll(() => predictor?.dispose());

  test('coffee.png is an espresso and chelsea.png a cat, one at a time and as a batch', async () => {
    const files = ['coffee.png', 'chelsea.png'].map((f) => path.join(images, f));
    const input = await imageToTensor(files, predictor);
    const out = await predictor.predict({ [predictor.inputs[0].name]: input });
    const [coffee, chelsea] = topK(out[predictor.outputs[0].name], { k: 3, labels });
    expect(coffee[0].label).toBe('espresso');
    expect(coffee[0].score).toBeGreaterThan(0.8);
    expect(['tabby', 'tiger cat', 'Egyptian cat']).toContain(chelsea[0].label);
  });
});

(haveModels ? describe : describe.skip)('the torchvision float models take the photos through the ImageNet preset', () => {
  test.each(['mobilenet_v2', 'squeezenet1_1'])('%s', async (name) => {
    const predictor = await Predictor.load(path.join(shared, 'models', `${name}.onnx`), { threads: 2 });
    try {
      const input = await imageToTensor(path.join(images, 'chelsea.png'), predictor, { normalize: 'imagenet', crop: 0.875 });
      expect(input.dims).toEqual([1, 3, 224, 224]);
      const { output } = await predictor.predict({ input });
      expect(output.dims).toEqual([1, 1000]);
      const [top] = topK(output, { k: 5 });
      expect(top).toHaveLength(5);
      expect(top.every((p) => Number.isFinite(p.score))).toBe(true);
    } finally {
      predictor.dispose();
    }
  });
});
