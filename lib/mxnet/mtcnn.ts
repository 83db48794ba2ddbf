/**
 * MTCNN face detection (Zhang et al., "Joint Face Detection and Alignment using
 * Multi-task Cascaded Convolutional Networks", 2016) on the MXNet cascade det1/det2/det3
 * (P-Net, R-Net, O-Net), loaded with {@link Predictor.load}.
 * @packageDocumentation
 */
import * as path from 'path';

import { fail } from '../errors';
import { Predictor, PredictorOptions } from '../predictor';
import { Tensor } from '../tensor';
import { RgbImage, isRgbImage, loadImage } from './image';

/** One detected face, in pixels of the input image. */
export interface Face {
  /** Box corners (x1, y1) top-left and (x2, y2) bottom-right. */
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
  /** O-Net's face probability. */
  readonly score: number;
  /** Left eye, right eye, nose, left and right mouth corners, as [x, y]. */
  readonly landmarks: ReadonlyArray<readonly [number, number]>;
}

/** Options of {@link MtcnnDetector.load}. */
export interface MtcnnOptions extends PredictorOptions {
  /** Smallest face to find, in pixels (default 20); sets the largest pyramid scale 12 / minSize. */
  minSize?: number;
  /** Pyramid scale factor between levels (default 0.709, i.e. about 1/sqrt(2)). */
  factor?: number;
  /** Score thresholds of P-Net, R-Net and O-Net (default [0.6, 0.7, 0.8]). */
  thresholds?: readonly [number, number, number];
  /**
   * Feed width and height swapped, as for the original Caffe/Matlab weights (default false).
   * The MXNet conversion in insightface/mxnet_mtcnn has the transpose folded into the
   * weights: on astronaut.png, plain input finds the face with O-Net score 1.00 and its
   * landmarks in place, transposed input finds nothing.
   */
  transposed?: boolean;
  /** Channel order the networks take (default 'bgr', as OpenCV fed them). */
  channelOrder?: 'bgr' | 'rgb';
}

interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  reg: [number, number, number, number];
  points?: number[];
}

/**
 * Samples the crop [x0, x0+cw) x [y0, y0+ch) of `im` (black outside the image) at
 * outW x outH with bilinear interpolation (pixel centres, as OpenCV's INTER_LINEAR),
 * normalised (v - 127.5) * 0.0078125, into `dst` at `offset` as three planes.
 */
function cropResize(
  im: RgbImage, x0: number, y0: number, cw: number, ch: number, outW: number, outH: number,
  transposed: boolean, bgr: boolean, dst: Float32Array, offset: number,
): void {
  const sx = cw / outW;
  const sy = ch / outH;
  const plane = outW * outH;
  const { width, height, data } = im;
  const px = (x: number, y: number, c: number): number =>
    x < 0 || y < 0 || x >= width || y >= height ? 0 : data[(y * width + x) * 3 + c];
  for (let y = 0; y < outH; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const iy0 = Math.min(Math.floor(fy), ch - 1);
    const iy1 = Math.min(iy0 + 1, ch - 1);
    const wy = fy - iy0;
    for (let x = 0; x < outW; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const ix0 = Math.min(Math.floor(fx), cw - 1);
      const ix1 = Math.min(ix0 + 1, cw - 1);
      const wx = fx - ix0;
      const at = transposed ? x * outH + y : y * outW + x;
      for (let c = 0; c < 3; c++) {
        const rc = bgr ? 2 - c : c;
        const p00 = px(x0 + ix0, y0 + iy0, rc);
        const p01 = px(x0 + ix1, y0 + iy0, rc);
        const p10 = px(x0 + ix0, y0 + iy1, rc);
        const p11 = px(x0 + ix1, y0 + iy1, rc);
        const top = p00 + (p01 - p00) * wx;
        const bottom = p10 + (p11 - p10) * wx;
        dst[offset + c * plane + at] = (top + (bottom - top) * wy - 127.5) * 0.0078125;
      }
    }
  }
}

/** Greedy non-maximum suppression: overlap as IoU, or over the smaller box ('min'). */
function nms(boxes: Box[], threshold: number, mode: 'union' | 'min'): Box[] {
  const sorted = boxes.slice().sort((a, b) => b.score - a.score);
  const kept: Box[] = [];
  const dead = new Uint8Array(sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    if (dead[i]) continue;
    const a = sorted[i];
    kept.push(a);
    const areaA = (a.x2 - a.x1 + 1) * (a.y2 - a.y1 + 1);
    for (let j = i + 1; j < sorted.length; j++) {
      if (dead[j]) continue;
      const b = sorted[j];
      const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1) + 1;
      const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1) + 1;
      if (w <= 0 || h <= 0) continue;
      const inter = w * h;
      const areaB = (b.x2 - b.x1 + 1) * (b.y2 - b.y1 + 1);
      const o = mode === 'min' ? inter / Math.min(areaA, areaB) : inter / (areaA + areaB - inter);
      if (o > threshold) dead[j] = 1;
    }
  }
  return kept;
}

/** Bounding-box regression (offsets are fractions of the box size). */
function regress(boxes: Box[], plusOne: boolean): void {
  for (const b of boxes) {
    const w = b.x2 - b.x1 + (plusOne ? 1 : 0);
    const h = b.y2 - b.y1 + (plusOne ? 1 : 0);
    b.x1 += b.reg[0] * w;
    b.y1 += b.reg[1] * h;
    b.x2 += b.reg[2] * w;
    b.y2 += b.reg[3] * h;
  }
}

/** Squares each box around its centre (side = the longer side), then truncates. */
function square(boxes: Box[]): void {
  for (const b of boxes) {
    const w = b.x2 - b.x1;
    const h = b.y2 - b.y1;
    const s = Math.max(w, h);
    b.x1 = Math.trunc(b.x1 + w * 0.5 - s * 0.5);
    b.y1 = Math.trunc(b.y1 + h * 0.5 - s * 0.5);
    b.x2 = b.x1 + Math.trunc(s);
    b.y2 = b.y1 + Math.trunc(s);
  }
}

function checkNumber(v: unknown, name: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi) {
    fail('ERR_INVALID_ARGUMENT', `Expected options.${name} to be a number from ${lo} to ${hi} but received ${String(v)}`);
  }
  return v;
}

/**
 * The MTCNN cascade: an image pyramid through P-Net (fully convolutional, any size),
 * R-Net on 24x24 crops, O-Net on 48x48 crops, with bounding-box regression, squaring and
 * non-maximum suppression after each stage.
 *
 * @example
 * ```ts
 * const detector = await MtcnnDetector.load('models/mtcnn');
 * const faces = await detector.detect('photo.jpg');  // decoding needs `sharp`
 * detector.dispose();
 * ```
 */
export class MtcnnDetector {
  private readonly minSize: number;
  private readonly factor: number;
  private readonly thresholds: readonly [number, number, number];
  private readonly transposed: boolean;
  private readonly bgr: boolean;

  private constructor(
    private readonly pnet: Predictor,
    private readonly rnet: Predictor,
    private readonly onet: Predictor,
    options: MtcnnOptions,
  ) {
    this.minSize = options.minSize ?? 20;
    this.factor = options.factor ?? 0.709;
    this.thresholds = options.thresholds ?? [0.6, 0.7, 0.8];
    this.transposed = options.transposed ?? false;
    this.bgr = (options.channelOrder ?? 'bgr') === 'bgr';
  }

  /**
   * [async] Loads det1, det2 and det3 (`-symbol.json` and `-0001.params`) from a directory.
   * @throws {@link NetliteError} as {@link Predictor.load}, or `ERR_INVALID_ARGUMENT` for bad options
   */
  static async load(modelDir: string, options: MtcnnOptions = {}): Promise<MtcnnDetector> {
    if (typeof modelDir !== 'string' || modelDir.length === 0) fail('ERR_INVALID_ARGUMENT', 'Expected the model directory as a path');
    const { minSize, factor, thresholds, transposed, channelOrder, ...predictorOptions } = options;
    if (minSize !== undefined) checkNumber(minSize, 'minSize', 12, 1e6);
    if (factor !== undefined) checkNumber(factor, 'factor', 0.1, 0.95);
    if (thresholds !== undefined) {
      if (!Array.isArray(thresholds) || thresholds.length !== 3) fail('ERR_INVALID_ARGUMENT', 'Expected options.thresholds to hold three numbers');
      thresholds.forEach((t, i) => checkNumber(t, `thresholds[${i}]`, 0, 1));
    }
    if (transposed !== undefined && typeof transposed !== 'boolean') fail('ERR_INVALID_ARGUMENT', 'Expected options.transposed to be a boolean');
    if (channelOrder !== undefined && channelOrder !== 'bgr' && channelOrder !== 'rgb') {
      fail('ERR_INVALID_ARGUMENT', "Expected options.channelOrder to be 'bgr' or 'rgb'");
    }
    const file = (name: string, suffix: string): string => path.join(modelDir, `${name}-${suffix}`);
    const net = (name: string, side?: number): Promise<Predictor> =>
      Predictor.load(
        {
          symbol: file(name, 'symbol.json'),
          params: file(name, '0001.params'),
          // P-Net takes any image size: its input shape comes with each pyramid level.
          ...(side ? { inputShapes: { data: [-1, 3, side, side] } } : {}),
        },
        predictorOptions,
      );
    const nets = await Promise.allSettled([net('det1'), net('det2', 24), net('det3', 48)]);
    const loaded = nets.filter((n): n is PromiseFulfilledResult<Predictor> => n.status === 'fulfilled').map((n) => n.value);
    const failed = nets.find((n): n is PromiseRejectedResult => n.status === 'rejected');
    if (failed) {
      for (const p of loaded) p.dispose();
      throw failed.reason;
    }
    return new MtcnnDetector(loaded[0], loaded[1], loaded[2], options);
  }

  /**
   * [async] Finds faces.
   * @param image - RGB pixels, or an image path/encoded bytes (decoded with the optional `sharp`)
   * @returns faces, best first
   */
  async detect(image: RgbImage | string | Uint8Array): Promise<Face[]> {
    const im = isRgbImage(image) ? image : await loadImage(image as string | Uint8Array);
    let boxes = await this.stage1(im);
    boxes = await this.refine(im, boxes, 24);
    boxes = await this.refine(im, boxes, 48);
    return boxes.map((b) => {
      const p = b.points ?? [];
      const landmarks = Object.freeze([0, 1, 2, 3, 4].map((k) => Object.freeze([p[k], p[5 + k]] as const)));
      return Object.freeze({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2, score: b.score, landmarks });
    });
  }

  /** Frees the three networks. */
  dispose(): void {
    this.pnet.dispose();
    this.rnet.dispose();
    this.onet.dispose();
  }

  private async stage1(im: RgbImage): Promise<Box[]> {
    const all: Box[] = [];
    const m = 12 / this.minSize;
    let minl = Math.min(im.width, im.height) * m;
    let scale = m;
    while (minl >= 12) {
      const hs = Math.ceil(im.height * scale);
      const ws = Math.ceil(im.width * scale);
      const input = new Float32Array(3 * hs * ws);
      cropResize(im, 0, 0, im.width, im.height, ws, hs, this.transposed, this.bgr, input, 0);
      const dims = this.transposed ? [1, 3, ws, hs] : [1, 3, hs, ws];
      const out = await this.pnet.predict({ data: new Tensor('float32', input, dims) });
      const reg = out[this.pnet.outputs[0].name];
      const prob = out[this.pnet.outputs[1].name];
      const [, , A, B] = prob.dims;
      const plane = A * B;
      const p = prob.data as Float32Array;
      const r = reg.data as Float32Array;
      const level: Box[] = [];
      for (let i = 0; i < A; i++) {
        for (let j = 0; j < B; j++) {
          const at = i * B + j;
          const score = p[plane + at];
          if (score <= this.thresholds[0]) continue;
          const gx = this.transposed ? i : j;
          const gy = this.transposed ? j : i;
          level.push({
            x1: Math.round((2 * gx + 1) / scale),
            y1: Math.round((2 * gy + 1) / scale),
            x2: Math.round((2 * gx + 1 + 12) / scale),
            y2: Math.round((2 * gy + 1 + 12) / scale),
            score,
            reg: [r[at], r[plane + at], r[2 * plane + at], r[3 * plane + at]],
          });
        }
      }
      all.push(...nms(level, 0.5, 'union'));
      scale *= this.factor;
      minl *= this.factor;
    }
    const boxes = nms(all, 0.7, 'union');
    regress(boxes, false);
    square(boxes);
    return boxes;
  }

  private async refine(im: RgbImage, boxes: Box[], side: 24 | 48): Promise<Box[]> {
    if (boxes.length === 0) return boxes;
    const onet = side === 48;
    const net = onet ? this.onet : this.rnet;
    const per = 3 * side * side;
    const input = new Float32Array(per * boxes.length);
    boxes.forEach((b, i) => {
      const w = Math.max(1, Math.trunc(b.x2 - b.x1) + 1);
      const h = Math.max(1, Math.trunc(b.y2 - b.y1) + 1);
      cropResize(im, Math.trunc(b.x1), Math.trunc(b.y1), w, h, side, side, this.transposed, this.bgr, input, per * i);
    });
    const out = await net.predict({ data: new Tensor('float32', input, [boxes.length, 3, side, side]) });
    const names = net.outputs.map((o) => o.name);
    // det2 heads: [box regression, probabilities]; det3: [landmarks, box regression, probabilities].
    const prob = out[names[names.length - 1]].data as Float32Array;
    const reg = out[names[names.length - 2]].data as Float32Array;
    const pts = onet ? (out[names[0]].data as Float32Array) : undefined;
    const kept: Box[] = [];
    boxes.forEach((b, i) => {
      const score = prob[2 * i + 1];
      if (score <= this.thresholds[onet ? 2 : 1]) return;
      const next: Box = { ...b, score, reg: [reg[4 * i], reg[4 * i + 1], reg[4 * i + 2], reg[4 * i + 3]] };
      if (pts) {
        const w = b.x2 - b.x1 + 1;
        const h = b.y2 - b.y1 + 1;
        next.points = [];
        for (let k = 0; k < 5; k++) next.points[k] = b.x1 + w * pts[10 * i + k] - 1;
        for (let k = 0; k < 5; k++) next.points[5 + k] = b.y1 + h * pts[10 * i + 5 + k] - 1;
      }
      kept.push(next);
    });
    if (onet) {
      regress(kept, true);
      return nms(kept, 0.7, 'min');
    }
    const survivors = nms(kept, 0.7, 'union');
    regress(survivors, true);
    square(survivors);
    return survivors;
  }
}
