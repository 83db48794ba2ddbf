/**
 * What several CLI commands share: preprocessing options, loading the model and labels,
 * choosing the scores output, finding images in folders.
 * @packageDocumentation
 * @internal
 */
import * as fs from 'fs';
import * as path from 'path';

import { fail } from '../errors';
import { ImageTensorOptions, NormalizePreset, normalizePresets } from '../image';
import { Predictor, TensorInfo } from '../predictor';
import { formatDims } from '../tensor';
import { OptionSpec, ParsedArgs, UsageError } from './args';

/** `--threads`, as every command that loads a model takes it. */
export const threadsOption: OptionSpec = {
  name: 'threads',
  short: 't',
  type: 'integer',
  value: 'N',
  min: 0,
  description: 'Threads per run (default 0: one per core)',
};

/** How images become the model's input (classify, serve). */
export const preprocessOptions: readonly OptionSpec[] = [
  {
    name: 'normalize',
    short: 'n',
    type: 'string',
    value: 'PRESET',
    choices: Object.keys(normalizePresets),
    description:
      'Pixel normalisation: imagenet = torchvision mean/std, mxnet = minus the ImageNet mean (123.68,116.78,103.94), ' +
      'tf = [-1,1], unit = [0,1], raw = 0-255. Default imagenet for float inputs, raw for uint8',
  },
  { name: 'mean', type: 'list', value: 'R,G,B', integers: false, description: 'Custom mean to subtract, one value or R,G,B (after --scale)' },
  { name: 'std', type: 'list', value: 'R,G,B', integers: false, description: 'Custom std to divide by, one value or R,G,B' },
  { name: 'scale', type: 'number', value: 'X', description: 'Multiply pixels (0-255) by X first, e.g. 0.00392 for 1/255' },
  { name: 'bgr', type: 'boolean', description: 'Feed channels as B,G,R (Caffe, OpenCV-trained models)' },
  { name: 'layout', type: 'string', choices: ['NCHW', 'NHWC'], value: 'L', description: 'Input layout, when the model does not tell' },
  { name: 'size', type: 'list', value: 'S|H,W', integers: true, min: 1, description: 'Input size, when the model leaves it free' },
  { name: 'resize', type: 'string', choices: ['crop', 'stretch'], value: 'MODE', description: 'Fit: shorter side then centre crop (default), or stretch' },
  { name: 'crop', type: 'number', value: 'F', description: 'Fraction of the shorter side the crop keeps (default 1; torchvision eval: 0.875)' },
  { name: 'input', type: 'string', value: 'NAME', description: 'Model input to feed, when it has several' },
  { name: 'output', type: 'string', value: 'NAME', description: 'Model output holding the scores (default: the first)' },
  {
    name: 'softmax',
    type: 'string',
    choices: ['auto', 'on', 'off'],
    value: 'WHEN',
    description: 'Softmax the scores: on, off, or auto = unless they already are probabilities (default)',
  },
];

/** The {@link ImageTensorOptions} the preprocessing flags ask for. */
export function imageOptionsFrom(args: ParsedArgs): ImageTensorOptions {
  const o = args.options;
  const out: ImageTensorOptions = {};
  const custom = o.mean !== undefined || o.std !== undefined || o.scale !== undefined;
  if (o.normalize !== undefined && custom) throw new UsageError('give either --normalize or --mean/--std/--scale, not both');
  if (o.normalize !== undefined) out.normalize = o.normalize as NormalizePreset;
  if (custom) {
    const list = (v: unknown): number[] | undefined => (v === undefined ? undefined : (v as string[]).map(Number));
    const mean = list(o.mean);
    const std = list(o.std);
    for (const [name, v] of [['mean', mean], ['std', std]] as const) {
      if (v && ((v.length !== 1 && v.length !== 3) || v.some((x) => !Number.isFinite(x)))) {
        throw new UsageError(`--${name} expects one number or three (R,G,B)`);
      }
    }
    out.normalize = { scale: (o.scale as number | undefined) ?? 1, mean: mean ?? 0, std: std ?? 1 };
  }
  if (o.bgr) out.channelOrder = 'BGR';
  if (o.layout !== undefined) out.layout = o.layout as 'NCHW' | 'NHWC';
  if (o.size !== undefined) {
    const s = o.size as number[];
    if (s.length === 1) out.size = s[0];
    else if (s.length === 2) out.size = [s[0], s[1]];
    else throw new UsageError('--size expects S or H,W');
  }
  if (o.resize !== undefined) out.resize = o.resize as 'crop' | 'stretch';
  if (o.crop !== undefined) {
    const c = o.crop as number;
    if (!(c > 0 && c <= 1)) throw new UsageError(`--crop expects a fraction in (0, 1] but received ${c}`);
    out.crop = c;
  }
  if (o.input !== undefined) out.input = o.input as string;
  return out;
}

/** `--softmax` as topK's option. */
export function softmaxFrom(args: ParsedArgs): boolean | 'auto' {
  const s = args.options.softmax;
  return s === 'on' ? true : s === 'off' ? false : 'auto';
}

/** Checks the model path before loading, for a clearer message than the engine's. */
export function checkModelPath(file: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail('ERR_IO', code === 'ENOENT' ? `model file '${file}' does not exist` : `cannot read model file '${file}' (${code})`);
  }
  if (st.isDirectory()) fail('ERR_IO', `'${file}' is a folder, not a model file`);
}

/** Loads the model named on the command line. */
export async function loadModel(file: string, threads: number | undefined): Promise<Predictor> {
  checkModelPath(file);
  return Predictor.load(file, threads === undefined ? {} : { threads });
}

/** The output holding class scores: `--output`, else the first. */
export function scoresOutput(predictor: Predictor, name: string | undefined): TensorInfo {
  if (name === undefined) return predictor.outputs[0];
  const found = predictor.outputs.find((o) => o.name === name);
  if (!found) {
    fail('ERR_NOT_FOUND', `the model has no output '${name}'; its outputs are ${predictor.outputs.map((o) => `'${o.name}' ${formatDims(o.shape)}`).join(', ')}`);
  }
  return found;
}

/** File extensions taken from folders. */
export const imageExtensions: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif']);

/**
 * Expands the image arguments: files as given, folders to the images in them (sorted; with
 * `recursive`, in subfolders too).
 */
export function expandImages(args: readonly string[], recursive: boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (recursive && depth < 32 && !e.name.startsWith('.')) walk(p, depth + 1);
      } else if (imageExtensions.has(path.extname(e.name).toLowerCase())) {
        out.push(p);
      }
    }
  };
  for (const a of args) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(a);
    } catch {
      st = undefined;
    }
    if (st?.isDirectory()) {
      const before = out.length;
      walk(a, 0);
      if (out.length === before) fail('ERR_NOT_FOUND', `folder '${a}' has no images (${[...imageExtensions].join(' ')})`);
    } else {
      out.push(a); // a missing file is reported with the image's results
    }
  }
  return out;
}
