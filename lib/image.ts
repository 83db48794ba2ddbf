/**
 * Images to tensors: decode (JPEG, PNG, WebP, GIF, TIFF, AVIF... through the optional
 * dependency `sharp`), resize, and lay out the pixels the way a model's input wants them.
 * netlite has no image decoder of its own; without sharp, raw pixels still work.
 * @packageDocumentation
 */
import * as fs from 'fs';

import { NetliteError, fail } from './errors';
import { Tensor, formatDims } from './tensor';

/** Memory layout of an image batch: channels first (PyTorch, ONNX zoo) or last (TensorFlow). */
export type ImageLayout = 'NCHW' | 'NHWC';

/** Order of the colour channels in the tensor. */
export type ChannelOrder = 'RGB' | 'BGR';

/**
 * How to fit an image to the model's size: `crop` scales the shorter side to the target and
 * cuts the centre (keeps proportions), `stretch` scales each side to the target.
 */
export type ResizeMode = 'crop' | 'stretch';

/**
 * Named normalisations, each a {@link Normalization} over 0–255 pixels:
 * - `imagenet`: `(p / 255 - mean) / std` with torchvision's ImageNet mean `[0.485, 0.456, 0.406]`
 *   and std `[0.229, 0.224, 0.225]`;
 * - `mxnet`: `p - mean` with the ImageNet per-channel mean `[123.68, 116.779, 103.939]` (MXNet's
 *   and Caffe's model zoos); for the older MXNet examples' single mean use `{ mean: 117 }`;
 * - `tf`: `p / 127.5 - 1`, into [-1, 1] (Inception, Keras MobileNet);
 * - `unit`: `p / 255`, into [0, 1];
 * - `raw`: the pixel values 0–255 unchanged (the only choice for a `uint8` input).
 */
export type NormalizePreset = 'imagenet' | 'mxnet' | 'tf' | 'unit' | 'raw';

/**
 * A normalisation: each value is `(pixel * scale - mean) / std`, pixel in 0–255. `mean` and
 * `std` are one number for every channel or one per colour **in R, G, B order**, whatever
 * the tensor's {@link ChannelOrder} (a BGR tensor gets them reordered).
 */
export interface Normalization {
  /** Default 1. */
  scale?: number;
  /** Default 0. */
  mean?: number | readonly number[];
  /** Default 1. */
  std?: number | readonly number[];
}

/** Every {@link NormalizePreset}. */
export const normalizePresets: Readonly<Record<NormalizePreset, Readonly<Required<Normalization>>>> = Object.freeze({
  imagenet: Object.freeze({ scale: 1 / 255, mean: Object.freeze([0.485, 0.456, 0.406]), std: Object.freeze([0.229, 0.224, 0.225]) }),
  mxnet: Object.freeze({ scale: 1, mean: Object.freeze([123.68, 116.779, 103.939]), std: 1 }),
  tf: Object.freeze({ scale: 1 / 127.5, mean: 1, std: 1 }),
  unit: Object.freeze({ scale: 1 / 255, mean: 0, std: 1 }),
  raw: Object.freeze({ scale: 1, mean: 0, std: 1 }),
});

/** Raw pixels: `height` rows of `width` pixels, `channels` interleaved bytes each (default 3, RGB). */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  /** 1 (grey), 3 (RGB) or 4 (RGBA); default 3. */
  readonly channels?: 1 | 3 | 4;
}

/** An image: a file path, the bytes of an encoded file (JPEG, PNG, WebP...), or {@link RawImage} pixels. */
export type ImageSource = string | Uint8Array | RawImage;

/** What {@link imageToTensor} needs to know of the model input; a Predictor fits (its first image-like input). */
export interface ImageInputInfo {
  readonly name?: string;
  readonly type: string;
  readonly shape: readonly number[];
}

/** Something with inputs, such as a Predictor. */
export interface ModelWithInputs {
  readonly inputs: readonly ImageInputInfo[];
}

/**
 * Options of {@link imageToTensor}. What the model's input fixes (layout, size, element type,
 * channel count) is inferred from it when unambiguous; an option given here must agree.
 */
export interface ImageTensorOptions {
  /** Name of the model input to fill, when the model has several. */
  input?: string;
  /** Target size: one number for a square, or `[height, width]`. Inferred from fixed input dims. */
  size?: number | readonly [number, number];
  /** Default `crop`. */
  resize?: ResizeMode;
  /**
   * Fraction of the shorter side a `crop` keeps (default 1). torchvision's evaluation transform
   * (resize to 256, centre crop 224) is 0.875.
   */
  crop?: number;
  /** Inferred from which dim is 3 (or 1); required when the input's shape does not tell. */
  layout?: ImageLayout;
  /** Default `RGB` (use `BGR` for Caffe- and OpenCV-trained models). Ignored for grey inputs. */
  channelOrder?: ChannelOrder;
  /** Colour channels: 3, or 1 for grey. Inferred from the input's shape, else 3. */
  channels?: 1 | 3;
  /** Inferred from the input's element type, else `float32`. */
  dtype?: 'float32' | 'uint8';
  /** A preset name or custom values. Default `imagenet` for `float32`, `raw` for `uint8`. */
  normalize?: NormalizePreset | Normalization;
  /** Resampling kernel (sharp's names); default `linear`, close to torchvision's bilinear. */
  kernel?: 'nearest' | 'linear' | 'cubic' | 'mitchell' | 'lanczos2' | 'lanczos3';
  /** Images with more pixels are refused before decoding (default 100 million). */
  maxPixels?: number;
}

/** A fully resolved preprocessing: what {@link imageToTensor} will do. */
export interface ImagePreprocessing {
  /** The model input it fills ('' when none was given). */
  readonly input: string;
  readonly layout: ImageLayout;
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  readonly channelOrder: ChannelOrder;
  readonly dtype: 'float32' | 'uint8';
  readonly resize: ResizeMode;
  readonly crop: number;
  /** The preset's name, or `custom`. */
  readonly normalizeName: NormalizePreset | 'custom';
  /** Per tensor channel (already in channel order). */
  readonly scale: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  /** Images per tensor the input accepts: a fixed number, or -1 for any. */
  readonly batch: number;
  readonly kernel: NonNullable<ImageTensorOptions['kernel']>;
  readonly maxPixels: number;
}

const optionKeys: readonly string[] = [
  'input', 'size', 'resize', 'crop', 'layout', 'channelOrder', 'channels', 'dtype', 'normalize', 'kernel', 'maxPixels',
];
const kernels: readonly string[] = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3'];

function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    fail('ERR_INVALID_ARGUMENT', `Expected ${name} to be one of ${choices.join(', ')} but received ${JSON.stringify(value)}`);
  }
  return value as T;
}

function positiveInt(name: string, value: unknown, max = 1 << 16): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    fail('ERR_INVALID_ARGUMENT', `Expected ${name} to be an integer from 1 to ${max} but received ${JSON.stringify(value)}`);
  }
  return value;
}

function perColour(name: string, value: unknown, fallback: number): number[] {
  if (value === undefined) return [fallback, fallback, fallback];
  const list = typeof value === 'number' ? [value, value, value] : value;
  if (!Array.isArray(list) || (list.length !== 3 && list.length !== 1) || list.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    fail('ERR_INVALID_ARGUMENT', `Expected normalize.${name} to be a number or 3 numbers (R, G, B) but received ${JSON.stringify(value)}`);
  }
  return list.length === 1 ? [list[0], list[0], list[0]] : (list as number[]).slice();
}

function pickInput(model: ModelWithInputs | ImageInputInfo | undefined | null, name: string | undefined): ImageInputInfo | undefined {
  if (model === undefined || model === null) {
    if (name !== undefined) fail('ERR_INVALID_ARGUMENT', `options.input names '${name}' but no model was given`);
    return undefined;
  }
  if (typeof model !== 'object') fail('ERR_INVALID_ARGUMENT', 'Expected a Predictor or an input description { type, shape }');
  if ('inputs' in model && Array.isArray(model.inputs)) {
    const inputs = model.inputs;
    if (name !== undefined) {
      const found = inputs.find((i) => i.name === name);
      if (!found) fail('ERR_NOT_FOUND', `The model has no input named '${name}'; its inputs are ${inputs.map((i) => `'${i.name}'`).join(', ')}`);
      return found;
    }
    const images = inputs.filter((i) => i.shape.length === 4);
    if (images.length === 0) {
      fail('ERR_SHAPE', `The model has no 4-D (image) input: ${inputs.map((i) => `'${i.name}' ${formatDims(i.shape)}`).join(', ')}`);
    }
    if (images.length > 1) {
      fail('ERR_INVALID_ARGUMENT', `The model has several image inputs (${images.map((i) => `'${i.name}'`).join(', ')}): name one with options.input`);
    }
    return images[0];
  }
  const info = model as ImageInputInfo;
  if (typeof info.type !== 'string' || !Array.isArray(info.shape)) {
    fail('ERR_INVALID_ARGUMENT', 'Expected a Predictor or an input description { type, shape }');
  }
  return info;
}

/** Which layouts the shape allows: the channel dim must be 1 or 3, or free. */
function layoutsOf(shape: readonly number[]): ImageLayout[] {
  const fits = (d: number): boolean => d < 0 || d === 1 || d === 3;
  const out: ImageLayout[] = [];
  if (fits(shape[1])) out.push('NCHW');
  if (fits(shape[3])) out.push('NHWC');
  if (out.length === 2) {
    // One fixed at 3 beats a free or 1-sized dim: [N,3,H,W] with H, W free is NCHW.
    const c1 = shape[1] === 3;
    const c3 = shape[3] === 3;
    if (c1 && !c3) return ['NCHW'];
    if (c3 && !c1) return ['NHWC'];
    if (shape[1] >= 1 && shape[3] < 0) return ['NCHW'];
    if (shape[3] >= 1 && shape[1] < 0) return ['NHWC'];
  }
  return out;
}

/**
 * Works out the preprocessing for a model input and options: what is fixed by the input is
 * taken from it, the rest from the options or the defaults.
 *
 * @param model - a Predictor (its one 4-D input, or `options.input`), an input description
 *   `{ type, shape }`, or nothing (then `size` is required)
 * @throws {@link NetliteError} `ERR_INVALID_ARGUMENT` for a bad option or one the input
 *   contradicts, or when something cannot be inferred (the message names the option to pass);
 *   `ERR_SHAPE`/`ERR_DTYPE` for an input that cannot take an image
 */
export function resolvePreprocessing(
  model: ModelWithInputs | ImageInputInfo | undefined | null,
  options: ImageTensorOptions = {},
): ImagePreprocessing {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail('ERR_INVALID_ARGUMENT', 'Expected options to be an object');
  }
  for (const key of Object.keys(options)) {
    if (!optionKeys.includes(key)) fail('ERR_INVALID_ARGUMENT', `Unknown option '${key}'; expected one of ${optionKeys.join(', ')}`);
  }
  const info = pickInput(model, options.input);
  const where = info ? `input${info.name ? ` '${info.name}'` : ''} ${formatDims(info.shape)}` : '';
  if (info && info.shape.length !== 4) fail('ERR_SHAPE', `Expected a 4-D image input but ${where} has rank ${info.shape.length}`);

  let layout = oneOf<ImageLayout>('layout', options.layout, ['NCHW', 'NHWC']);
  if (info) {
    const possible = layoutsOf(info.shape);
    if (possible.length === 0) fail('ERR_SHAPE', `${where} has no channel dim of 1 or 3, so it does not take an image`);
    if (layout !== undefined && !possible.includes(layout)) {
      fail('ERR_INVALID_ARGUMENT', `layout ${layout} does not fit ${where}`);
    }
    if (layout === undefined) {
      if (possible.length > 1) fail('ERR_INVALID_ARGUMENT', `Cannot tell whether ${where} is NCHW or NHWC: pass layout`);
      layout = possible[0];
    }
  }
  layout = layout ?? 'NCHW';
  const [cDim, hDim, wDim] = layout === 'NCHW' ? [1, 2, 3] : [3, 1, 2];

  let channels: 1 | 3 | undefined;
  if (options.channels !== undefined) {
    if (options.channels !== 1 && options.channels !== 3) fail('ERR_INVALID_ARGUMENT', `Expected channels to be 1 or 3 but received ${JSON.stringify(options.channels)}`);
    channels = options.channels;
  }
  const fixedC = info && info.shape[cDim] > 0 ? (info.shape[cDim] as 1 | 3) : undefined;
  if (channels !== undefined && fixedC !== undefined && channels !== fixedC) {
    fail('ERR_INVALID_ARGUMENT', `channels ${channels} does not fit ${where}`);
  }
  channels = channels ?? fixedC ?? 3;

  let height: number | undefined;
  let width: number | undefined;
  if (options.size !== undefined) {
    const s = options.size;
    if (typeof s === 'number') {
      height = width = positiveInt('size', s);
    } else if (Array.isArray(s) && s.length === 2) {
      height = positiveInt('size[0] (height)', s[0]);
      width = positiveInt('size[1] (width)', s[1]);
    } else {
      fail('ERR_INVALID_ARGUMENT', `Expected size to be a number or [height, width] but received ${JSON.stringify(s)}`);
    }
  }
  if (info) {
    const h = info.shape[hDim];
    const w = info.shape[wDim];
    if (height !== undefined && ((h > 0 && h !== height) || (w > 0 && w !== width))) {
      fail('ERR_INVALID_ARGUMENT', `size ${height}x${width} does not fit ${where}`);
    }
    if (height === undefined) {
      if (h <= 0 || w <= 0) fail('ERR_INVALID_ARGUMENT', `${where} leaves the image size free: pass size`);
      height = h;
      width = w;
    }
  }
  if (height === undefined || width === undefined) fail('ERR_INVALID_ARGUMENT', 'Without a model input, pass size');

  let dtype = oneOf<'float32' | 'uint8'>('dtype', options.dtype, ['float32', 'uint8']);
  if (info) {
    if (info.type !== 'float32' && info.type !== 'uint8') {
      fail('ERR_DTYPE', `${where} is ${info.type}; images become float32 or uint8 tensors`);
    }
    if (dtype !== undefined && dtype !== info.type) fail('ERR_INVALID_ARGUMENT', `dtype ${dtype} does not fit ${where}, which is ${info.type}`);
    dtype = info.type;
  }
  dtype = dtype ?? 'float32';

  const norm = options.normalize ?? (dtype === 'uint8' ? 'raw' : 'imagenet');
  let normalizeName: NormalizePreset | 'custom';
  let values: Required<Normalization>;
  if (typeof norm === 'string') {
    if (!Object.prototype.hasOwnProperty.call(normalizePresets, norm)) {
      fail('ERR_INVALID_ARGUMENT', `Unknown normalize preset ${JSON.stringify(norm)}; expected one of ${Object.keys(normalizePresets).join(', ')}`);
    }
    normalizeName = norm;
    values = normalizePresets[norm];
  } else if (norm !== null && typeof norm === 'object' && !Array.isArray(norm)) {
    for (const key of Object.keys(norm)) {
      if (!['scale', 'mean', 'std'].includes(key)) fail('ERR_INVALID_ARGUMENT', `Unknown normalize field '${key}'; expected scale, mean, std`);
    }
    normalizeName = 'custom';
    values = { scale: norm.scale ?? 1, mean: norm.mean ?? 0, std: norm.std ?? 1 };
  } else {
    return fail('ERR_INVALID_ARGUMENT', `Expected normalize to be a preset name or { scale, mean, std } but received ${JSON.stringify(norm)}`);
  }
  if (typeof values.scale !== 'number' || !Number.isFinite(values.scale)) {
    fail('ERR_INVALID_ARGUMENT', `Expected normalize.scale to be a finite number but received ${JSON.stringify(values.scale)}`);
  }
  const channelOrder = oneOf<ChannelOrder>('channelOrder', options.channelOrder, ['RGB', 'BGR']) ?? 'RGB';
  let mean = perColour('mean', values.mean, 0);
  let std = perColour('std', values.std, 1);
  if (std.some((s) => s === 0)) fail('ERR_INVALID_ARGUMENT', 'normalize.std must not be 0');
  if (channels === 1) {
    const avg = (a: number[]): number => (a[0] + a[1] + a[2]) / 3;
    mean = [avg(mean)];
    std = [avg(std)];
  } else if (channelOrder === 'BGR') {
    mean = mean.reverse();
    std = std.reverse();
  }
  const identity = values.scale === 1 && mean.every((m) => m === 0) && std.every((s) => s === 1);
  if (dtype === 'uint8' && !identity) {
    fail('ERR_INVALID_ARGUMENT', `A uint8 tensor holds raw 0-255 pixels: normalize must be 'raw' (the model normalises inside)`);
  }
  const crop = options.crop ?? 1;
  if (typeof crop !== 'number' || !(crop > 0 && crop <= 1)) {
    fail('ERR_INVALID_ARGUMENT', `Expected crop to be a fraction in (0, 1] but received ${JSON.stringify(crop)}`);
  }
  const maxPixels = options.maxPixels ?? 100_000_000;
  positiveInt('maxPixels', maxPixels, Number.MAX_SAFE_INTEGER);
  return Object.freeze({
    input: info?.name ?? '',
    layout,
    height,
    width: width as number,
    channels,
    channelOrder,
    dtype,
    resize: oneOf<ResizeMode>('resize', options.resize, ['crop', 'stretch']) ?? 'crop',
    crop,
    normalizeName,
    scale: values.scale,
    mean: Object.freeze(mean),
    std: Object.freeze(std),
    batch: info ? info.shape[0] : -1,
    kernel: oneOf('kernel', options.kernel, kernels as readonly NonNullable<ImageTensorOptions['kernel']>[]) ?? 'linear',
    maxPixels,
  });
}

/** One line for people: `uint8 NHWC [N,224,224,3] RGB, raw 0-255, crop`. */
export function describePreprocessing(p: ImagePreprocessing): string {
  const dims = p.layout === 'NCHW' ? [p.batch, p.channels, p.height, p.width] : [p.batch, p.height, p.width, p.channels];
  const colours = p.channels === 1 ? 'grey' : p.channelOrder;
  const round = (v: number): string => String(Number(v.toPrecision(4)));
  let norm: string;
  if (p.normalizeName === 'raw') norm = 'raw 0-255';
  else if (p.normalizeName === 'custom') {
    norm = `(p*${round(p.scale)} - [${p.mean.map(round).join(',')}]) / [${p.std.map(round).join(',')}]`;
  } else norm = p.normalizeName;
  const fit = p.resize === 'crop' ? (p.crop < 1 ? `crop ${round(p.crop)}` : 'crop') : 'stretch';
  return `${p.dtype} ${p.layout} ${formatDims(dims)} ${colours}, ${norm}, ${fit}`;
}

// ---------------------------------------------------------------------------------------------
// Decoding through sharp (optional)

interface SharpPipeline {
  rotate(): SharpPipeline;
  removeAlpha(): SharpPipeline;
  greyscale(): SharpPipeline;
  toColourspace(space: string): SharpPipeline;
  resize(options: { width: number; height: number; fit: 'cover' | 'fill'; position?: string; kernel?: string }): SharpPipeline;
  extract(region: { left: number; top: number; width: number; height: number }): SharpPipeline;
  raw(options?: { depth?: string }): SharpPipeline;
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Uint8Array; info: { width: number; height: number; channels: number } }>;
}
interface SharpInputOptions {
  limitInputPixels?: number;
  failOn?: 'none' | 'truncated' | 'error' | 'warning';
  raw?: { width: number; height: number; channels: number };
}
type SharpFactory = (input: string | Uint8Array, options?: SharpInputOptions) => SharpPipeline;

let sharpModule: SharpFactory | undefined;

/**
 * True when the optional dependency `sharp` can be loaded (so encoded images can be decoded).
 */
export function hasImageDecoder(): boolean {
  try {
    loadSharp();
    return true;
  } catch {
    return false;
  }
}

function loadSharp(): SharpFactory {
  if (sharpModule) return sharpModule;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    sharpModule = require('sharp') as SharpFactory;
    return sharpModule;
  } catch (e) {
    const reason = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new NetliteError(
      'ERR_UNSUPPORTED',
      `Decoding images needs the optional dependency 'sharp', which cannot be loaded (${reason}). ` +
        'Install it with `npm install sharp`, or pass raw pixels as { width, height, data }.',
    );
  }
}

function isRawImage(v: unknown): v is RawImage {
  return v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && 'data' in v && 'width' in v && 'height' in v;
}

function describeSource(source: ImageSource, index: number, count: number): string {
  if (typeof source === 'string') return `'${source}'`;
  const which = count > 1 ? ` #${index}` : '';
  return isRawImage(source) ? `raw image${which}` : `image bytes${which}`;
}

/** Decodes, orients, resizes and crops one image to `p`'s size; interleaved channels, 1 or 3. */
async function decodeResized(source: ImageSource, p: ImagePreprocessing, what: string): Promise<{ data: Uint8Array; channels: number }> {
  let input: string | Uint8Array;
  const inputOptions: SharpInputOptions = { limitInputPixels: p.maxPixels, failOn: 'error' };
  if (typeof source === 'string') {
    if (source.length === 0) fail('ERR_INVALID_ARGUMENT', 'Expected an image path but received an empty string');
    try {
      const st = fs.statSync(source);
      if (!st.isFile()) fail('ERR_IO', `Cannot read image ${what}: not a file`);
    } catch (e) {
      if (e instanceof NetliteError) throw e;
      throw new NetliteError('ERR_IO', `Cannot read image ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    input = source;
  } else if (source instanceof Uint8Array || ArrayBuffer.isView(source)) {
    const bytes = source as Uint8Array;
    if (bytes.byteLength === 0) fail('ERR_INVALID_ARGUMENT', `Cannot decode ${what}: it is empty`);
    input = bytes;
  } else if (isRawImage(source)) {
    const { width, height, data } = source;
    const channels = source.channels ?? 3;
    if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1 || ![1, 3, 4].includes(channels)) {
      fail('ERR_INVALID_ARGUMENT', `${what} needs positive integer width and height and 1, 3 or 4 channels`);
    }
    if (!(data instanceof Uint8Array) || data.length !== width * height * channels) {
      fail('ERR_INVALID_ARGUMENT', `${what} needs width*height*channels = ${width * height * channels} bytes of data`);
    }
    if (width * height > p.maxPixels) fail('ERR_INVALID_ARGUMENT', `${what} has ${width * height} pixels, more than the limit of ${p.maxPixels}`);
    input = data;
    inputOptions.raw = { width, height, channels };
  } else {
    return fail('ERR_INVALID_ARGUMENT', 'Expected an image as a path, encoded bytes (Uint8Array) or { width, height, data }');
  }
  const sharp = loadSharp();
  try {
    let pipe = sharp(input, inputOptions).rotate();
    pipe = p.channels === 1 ? pipe.greyscale() : pipe.toColourspace('srgb');
    pipe = pipe.removeAlpha();
    if (p.resize === 'stretch') {
      pipe = pipe.resize({ width: p.width, height: p.height, fit: 'fill', kernel: p.kernel });
    } else if (p.crop >= 1) {
      pipe = pipe.resize({ width: p.width, height: p.height, fit: 'cover', position: 'centre', kernel: p.kernel });
    } else {
      const rw = Math.round(p.width / p.crop);
      const rh = Math.round(p.height / p.crop);
      pipe = pipe
        .resize({ width: rw, height: rh, fit: 'cover', position: 'centre', kernel: p.kernel })
        .extract({ left: Math.floor((rw - p.width) / 2), top: Math.floor((rh - p.height) / 2), width: p.width, height: p.height });
    }
    const out = await pipe.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (out.info.width !== p.width || out.info.height !== p.height) {
      fail('ERR_INTERNAL', `Resizing ${what} gave ${out.info.width}x${out.info.height} instead of ${p.width}x${p.height}`);
    }
    return { data: out.data, channels: out.info.channels };
  } catch (e) {
    if (e instanceof NetliteError) throw e;
    const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    if (/pixel limit/i.test(reason)) {
      throw new NetliteError('ERR_INVALID_ARGUMENT', `Cannot decode ${what}: it has more than ${p.maxPixels} pixels`);
    }
    if (/unsupported image format/i.test(reason)) {
      throw new NetliteError('ERR_INVALID_ARGUMENT', `Cannot decode ${what}: not a JPEG, PNG, WebP, GIF, TIFF or AVIF image`);
    }
    throw new NetliteError('ERR_INVALID_ARGUMENT', `Cannot decode ${what}: ${reason.replace(/^Input (file|buffer) /, 'it ')}`);
  }
}

/** Writes one decoded image into `out` at image `n` of the batch, normalised and laid out. */
function fill(out: Float32Array | Uint8Array, n: number, pixels: Uint8Array, srcChannels: number, p: ImagePreprocessing): void {
  const { height, width, channels } = p;
  const plane = height * width;
  const base = n * plane * channels;
  // Source channel for tensor channel c: RGB order as decoded, reversed for BGR.
  const from = channels === 1 ? [0] : p.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  if (srcChannels < channels) from.fill(0); // a grey image going into an RGB tensor
  const nchw = p.layout === 'NCHW';
  for (let c = 0; c < channels; c++) {
    const a = p.scale / p.std[c];
    const b = -p.mean[c] / p.std[c];
    const src = from[c];
    for (let i = 0; i < plane; i++) {
      const v = pixels[i * srcChannels + src];
      out[nchw ? base + c * plane + i : base + i * channels + c] = out instanceof Uint8Array ? v : v * a + b;
    }
  }
}

/**
 * Turns images into the tensor a model input wants: decodes them (with sharp), applies EXIF
 * orientation, resizes (crop or stretch), orders the channels, normalises and lays out the
 * batch. Images are decoded concurrently on the libuv thread pool.
 *
 * @param images - one image or several (one batch); a path, encoded bytes or raw pixels each
 * @param model - a Predictor, or the input's `{ type, shape }`; what its input fixes is inferred
 *   (layout, size, element type, channels). `null` to rely on the options alone.
 * @param options - see {@link ImageTensorOptions}
 * @returns a tensor `[N, C, H, W]` or `[N, H, W, C]`, float32 or uint8
 * @throws {@link NetliteError} `ERR_UNSUPPORTED` when sharp is missing (for encoded images),
 *   `ERR_IO` for an unreadable file, `ERR_INVALID_ARGUMENT` for bytes that are not an image or
 *   a bad option, `ERR_SHAPE` when the input takes a fixed batch of another size
 * @example
 * ```ts
 * const predictor = await Predictor.load('resnet18.onnx');
 * const input = await imageToTensor('cat.jpg', predictor, { normalize: 'imagenet' });
 * const { output } = await predictor.predict({ [predictor.inputs[0].name]: input });
 * ```
 */
export async function imageToTensor(
  images: ImageSource | readonly ImageSource[],
  model: ModelWithInputs | ImageInputInfo | null | undefined,
  options: ImageTensorOptions = {},
): Promise<Tensor<'float32'> | Tensor<'uint8'>> {
  const p = resolvePreprocessing(model, options);
  return imagesToTensor(images, p);
}

/**
 * {@link imageToTensor} with a preprocessing already resolved (by {@link resolvePreprocessing}),
 * for callers that convert many images the same way.
 */
export async function imagesToTensor(
  images: ImageSource | readonly ImageSource[],
  p: ImagePreprocessing,
): Promise<Tensor<'float32'> | Tensor<'uint8'>> {
  const list: readonly ImageSource[] = Array.isArray(images) ? images : [images as ImageSource];
  if (list.length === 0) fail('ERR_INVALID_ARGUMENT', 'Expected at least one image');
  if (p.batch > 0 && list.length !== p.batch) {
    fail('ERR_SHAPE', `The model input takes exactly ${p.batch} image${p.batch === 1 ? '' : 's'} per run but received ${list.length}`);
  }
  const decoded = await Promise.all(list.map((src, i) => decodeResized(src, p, describeSource(src, i, list.length))));
  const per = p.channels * p.height * p.width;
  const dims = p.layout === 'NCHW' ? [list.length, p.channels, p.height, p.width] : [list.length, p.height, p.width, p.channels];
  if (p.dtype === 'uint8') {
    const out = new Uint8Array(per * list.length);
    decoded.forEach((d, n) => fill(out, n, d.data, d.channels, p));
    return new Tensor('uint8', out, dims);
  }
  const out = new Float32Array(per * list.length);
  decoded.forEach((d, n) => fill(out, n, d.data, d.channels, p));
  return new Tensor('float32', out, dims);
}
