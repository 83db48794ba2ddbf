/**
 * `netlite classify <model> <images or folders...>`: the top classes of each image.
 * @packageDocumentation
 * @internal
 */
import * as path from 'path';

import { ImagePreprocessing, describePreprocessing, imagesToTensor, resolvePreprocessing } from '../image';
import { Prediction, loadLabels, topK } from '../labels';
import { Predictor } from '../predictor';
import { Tensor } from '../tensor';
import { Command, ParsedArgs, CliIo, UsageError } from './args';
import { expandImages, imageOptionsFrom, loadModel, preprocessOptions, scoresOutput, softmaxFrom, threadsOption } from './common';
import { Progress, formatMs, table } from './format';

/** One image's outcome. */
interface ImageResult {
  image: string;
  predictions?: Prediction[];
  /** Decode + resize, ms. */
  decodeMs?: number;
  /** This image's share of its batch's run, ms. */
  inferenceMs?: number;
  error?: string;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Percent for probabilities, else the raw score. */
function formatScore(score: number, probabilities: boolean): string {
  if (!probabilities) return score.toPrecision(4);
  const pct = score * 100;
  return `${pct >= 10 ? pct.toFixed(1) : pct.toFixed(2)}%`;
}

/** A tensor of zeros shaped for `n` images, for the warm-up run. */
function blankTensor(p: ImagePreprocessing, n: number): Tensor {
  const dims = p.layout === 'NCHW' ? [n, p.channels, p.height, p.width] : [n, p.height, p.width, p.channels];
  const size = dims.reduce((a, b) => a * b, 1);
  return p.dtype === 'uint8' ? new Tensor('uint8', new Uint8Array(size), dims) : new Tensor('float32', new Float32Array(size), dims);
}

interface BatchOptions {
  output: string;
  k: number;
  labels?: readonly string[];
  softmax: boolean | 'auto';
}

/**
 * Classifies one run's worth of images. A model with a fixed batch of B gets exactly B
 * (the last short group is padded with repeats); with a free batch, a group whose decoding
 * fails is retried image by image so one bad file does not sink the others.
 */
async function classifyBatch(predictor: Predictor, p: ImagePreprocessing, images: string[], options: BatchOptions): Promise<ImageResult[]> {
  const padded = p.batch > images.length ? [...images, ...Array<string>(p.batch - images.length).fill(images[images.length - 1])] : images;
  const t0 = performance.now();
  let tensor;
  try {
    tensor = await imagesToTensor(padded, p);
  } catch (e) {
    if (images.length === 1 || p.batch > 0) return images.map((image) => ({ image, error: (e as Error).message }));
    const out: ImageResult[] = [];
    for (const image of images) out.push(...(await classifyBatch(predictor, p, [image], options)));
    return out;
  }
  const t1 = performance.now();
  const results = await predictor.predict({ [p.input]: tensor });
  const t2 = performance.now();
  const rows = topK(results[options.output], { k: options.k, labels: options.labels, softmax: options.softmax });
  return images.map((image, i) => ({
    image,
    predictions: rows[i],
    decodeMs: (t1 - t0) / images.length,
    inferenceMs: (t2 - t1) / images.length,
  }));
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const o = args.options;
  const [modelPath, ...imageArgs] = args.positionals;
  const k = (o.top as number | undefined) ?? 5;
  const batch = (o.batch as number | undefined) ?? 1;
  const imageOptions = imageOptionsFrom(args);
  const softmax = softmaxFrom(args);
  const labels = o.labels !== undefined ? loadLabels(o.labels as string) : undefined;
  const images = expandImages(imageArgs, o.recursive === true);

  const predictor = await loadModel(modelPath, o.threads as number | undefined);
  try {
    const p = resolvePreprocessing(predictor, imageOptions);
    if (p.batch > 0 && batch !== p.batch && o.batch !== undefined) {
      throw new UsageError(`the model takes exactly ${p.batch} image${p.batch === 1 ? '' : 's'} per run; --batch ${batch} does not fit`);
    }
    const perRun = p.batch > 0 ? p.batch : batch;
    const output = scoresOutput(predictor, o.output as string | undefined);
    const classes = output.shape[output.shape.length - 1];
    if (labels && classes > 0 && labels.length !== classes) {
      io.stderr.write(`${io.program} classify: warning: ${labels.length} labels for ${classes} classes\n`);
    }
    const showProgress = o.progress === true || (o.progress === undefined && io.stderr.isTTY === true && images.length >= 5);
    const progress = new Progress(io.stderr, images.length, showProgress);

    // The first run plans the graph for its shapes: warm up so per-image times are steady.
    // Likewise sharp's first call starts libvips: do it on one pixel.
    if (o.warmup !== false && images.length > 0) {
      await predictor.predict({ [p.input]: blankTensor(p, Math.min(perRun, images.length)) });
      await imagesToTensor({ width: 1, height: 1, data: new Uint8Array(3) }, { ...p, batch: -1 }).catch(() => undefined);
    }

    const started = performance.now();
    const results: ImageResult[] = [];
    for (let i = 0; i < images.length; i += perRun) {
      const group = images.slice(i, i + perRun);
      results.push(...(await classifyBatch(predictor, p, group, { output: output.name, k, labels, softmax })));
      progress.tick(path.basename(group[group.length - 1]), group.length);
    }
    const seconds = (performance.now() - started) / 1000;
    progress.end();

    const ok = results.filter((r) => r.predictions);
    const failed = results.length - ok.length;
    if (o.json) {
      const json = {
        model: modelPath,
        input: { name: p.input, preprocessing: describePreprocessing(p) },
        output: output.name,
        results: results.map((r) =>
          r.error !== undefined
            ? { image: r.image, error: r.error }
            : { image: r.image, predictions: r.predictions, decodeMs: round(r.decodeMs), inferenceMs: round(r.inferenceMs) },
        ),
      };
      io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    } else {
      const probabilities = softmax !== false;
      const rows: string[][] = [['image', '#', 'class', 'score', 'decode ms', 'infer ms']];
      for (const r of results) {
        if (r.error !== undefined) {
          rows.push([r.image, '', `error: ${r.error}`, '', '', '']);
          continue;
        }
        (r.predictions as Prediction[]).forEach((pr, j) => {
          rows.push([
            j === 0 ? r.image : '',
            String(j + 1),
            pr.label,
            formatScore(pr.score, probabilities),
            j === 0 ? formatMs(r.decodeMs as number) : '',
            j === 0 ? formatMs(r.inferenceMs as number) : '',
          ]);
        });
      }
      io.stdout.write(`model  ${modelPath}\ninput  ${describePreprocessing(p)}\n\n`);
      io.stdout.write(`${table(rows, ['left', 'right', 'left', 'right', 'right', 'right'])}\n\n`);
      const times = ok.map((r) => r.inferenceMs as number);
      const decodes = ok.map((r) => r.decodeMs as number);
      io.stdout.write(
        `${ok.length} image${ok.length === 1 ? '' : 's'} in ${seconds.toFixed(2)} s` +
          (ok.length ? `; per image (median): decode ${formatMs(median(decodes))} ms, inference ${formatMs(median(times))} ms` : '') +
          (perRun > 1 ? `, batches of ${perRun}` : '') +
          (failed ? `; ${failed} failed` : '') +
          '\n',
      );
    }
    if (failed) {
      io.stderr.write(`${io.program} classify: ${failed} of ${results.length} image${results.length === 1 ? '' : 's'} could not be classified\n`);
      return 1;
    }
    return 0;
  } finally {
    predictor.dispose();
  }
}

function round(v: number | undefined): number | undefined {
  return v === undefined ? undefined : Math.round(v * 1000) / 1000;
}

/** The `classify` command. */
export const classifyCommand: Command = {
  name: 'classify',
  summary: 'Classify images: the top classes of each, with scores and per-image time.',
  usage: '<model> <image or folder>... [options]',
  description:
    'Images are JPEG, PNG, WebP, GIF, TIFF or AVIF files (decoded by the optional dependency sharp); a folder ' +
    'stands for the images in it. The model input\'s layout, size and element type are inferred when it fixes ' +
    'them; float inputs get the ImageNet normalisation unless --normalize or --mean/--std say otherwise.',
  positionals: { min: 2, max: Infinity },
  options: [
    { name: 'labels', short: 'l', type: 'string', value: 'FILE', description: 'Class names: one per line, synset.txt style, or JSON' },
    { name: 'top', short: 'k', type: 'integer', value: 'K', min: 1, description: 'Classes per image (default 5)' },
    { name: 'json', type: 'boolean', description: 'Print JSON instead of a table' },
    { name: 'batch', short: 'b', type: 'integer', value: 'N', min: 1, description: 'Images per run, for models with a free batch dim (default 1)' },
    threadsOption,
    { name: 'recursive', short: 'r', type: 'boolean', description: 'Also take images in subfolders' },
    { name: 'progress', type: 'boolean', description: 'Show a progress bar (default: on a terminal, from 5 images)' },
    { name: 'warmup', type: 'boolean', description: 'One untimed run first, so times leave out planning (default on; --no-warmup to skip)' },
    ...preprocessOptions,
  ],
  examples: [
    'netlite classify mobilenet.onnx photo.jpg --labels labels.txt',
    'netlite classify resnet18.onnx photos/ --labels synset.txt --normalize imagenet --top 3 --json',
  ],
  run,
};
