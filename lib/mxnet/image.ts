/**
 * Image decoding for the MXNet examples, through the optional dependency `sharp`.
 * netlite itself never decodes images: this is a convenience for the face detector.
 * @packageDocumentation
 */
import { NetliteError } from '../errors';

/** An 8-bit RGB image, rows top to bottom, pixels interleaved (R, G, B). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 3 bytes. */
  readonly data: Uint8Array;
}

interface SharpPipeline {
  rotate(): SharpPipeline;
  raw(): SharpPipeline;
  toBuffer(options: { resolveWithObject: true }): Promise<{ data: Uint8Array; info: { width: number; height: number; channels: number } }>;
}
type SharpFactory = (input: string | Uint8Array) => SharpPipeline;

let sharpModule: SharpFactory | undefined;

function sharp(): SharpFactory {
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
        "Install it with `npm install sharp`, or pass the image as { width, height, data } RGB bytes.",
    );
  }
}

/** True when `v` looks like an {@link RgbImage}. */
export function isRgbImage(v: unknown): v is RgbImage {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Partial<RgbImage>;
  return (
    Number.isSafeInteger(o.width) && Number.isSafeInteger(o.height) && o.data instanceof Uint8Array &&
    (o.width as number) > 0 && (o.height as number) > 0 && o.data.length === (o.width as number) * (o.height as number) * 3
  );
}

/**
 * Decodes an image file (PNG, JPEG, WebP, ... anything sharp reads; EXIF orientation
 * applied) to RGB.
 * @param source - a path, or the encoded bytes
 * @throws {@link NetliteError} `ERR_UNSUPPORTED` when sharp is not installed, `ERR_IO` when
 *   the image cannot be read or decoded
 */
export async function loadImage(source: string | Uint8Array): Promise<RgbImage> {
  const decode = sharp();
  let out: { data: Uint8Array; info: { width: number; height: number; channels: number } };
  try {
    out = await decode(source).rotate().raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    const what = typeof source === 'string' ? `'${source}'` : 'the image bytes';
    throw new NetliteError('ERR_IO', `Cannot decode ${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { width, height, channels } = out.info;
  const src = out.data;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, n = width * height; i < n; i++) {
    if (channels >= 3) {
      rgb[3 * i] = src[channels * i];
      rgb[3 * i + 1] = src[channels * i + 1];
      rgb[3 * i + 2] = src[channels * i + 2];
    } else {
      const g = src[channels * i];  // grey (+ alpha)
      rgb[3 * i] = g;
      rgb[3 * i + 1] = g;
      rgb[3 * i + 2] = g;
    }
  }
  return { width, height, data: rgb };
}
