/**
 * Class labels and top-k: turn a classifier's output into named, ranked predictions.
 * @packageDocumentation
 */
import * as fs from 'fs';

import { NetliteError, fail } from './errors';
import { Tensor, formatDims } from './tensor';

/** One ranked class of one image. */
export interface Prediction {
  /** Class index in the model's output. */
  readonly index: number;
  /** The class's label, or `#<index>` without labels. */
  readonly label: string;
  /** Probability (after softmax when it was applied), else the raw output value. */
  readonly score: number;
}

/** Options of {@link topK}. */
export interface TopKOptions {
  /** How many classes per image (default 5; clamped to the number of classes). */
  k?: number;
  /** Labels by class index, e.g. from {@link loadLabels}. */
  labels?: readonly string[];
  /**
   * Apply softmax to each row first: `true`, `false`, or `'auto'` (default): only when the row
   * is not already a probability distribution (a value outside [0, 1], or a sum outside
   * (0.5, 1.05): quantized softmax outputs sum a little under 1).
   */
  softmax?: boolean | 'auto';
}

const wnidPrefix = /^n\d{8}\s+/;

/**
 * Parses labels text. Accepts one label per line (`tench`), `synset.txt` style lines
 * (`n01440764 tench, Tinca tinca`, the WordNet id dropped), a JSON array of strings, or a
 * JSON object mapping indices to a label or to `[wnid, label]` (`imagenet_class_index.json`).
 * Line i is class i: inner blank lines are kept (as empty labels), a final newline is not a label.
 * @throws {@link NetliteError} `ERR_INVALID_ARGUMENT` for JSON that is none of those shapes
 */
export function parseLabels(text: string): string[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const trimmed = body.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) return parseJsonLabels(trimmed);
  const lines = body.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  return lines.map((l) => l.trim().replace(wnidPrefix, ''));
}

function parseJsonLabels(text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return fail('ERR_INVALID_ARGUMENT', `Labels look like JSON but do not parse: ${(e as Error).message}`);
  }
  const pick = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.length && typeof v[v.length - 1] === 'string') return v[v.length - 1] as string;
    return undefined;
  };
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const v of value) {
      const label = pick(v);
      if (label === undefined) break;
      out.push(label);
    }
    if (out.length === value.length) return out;
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    let ok = entries.length > 0;
    for (const [key, v] of entries) {
      const i = Number(key);
      const label = pick(v);
      if (!Number.isSafeInteger(i) || i < 0 || i >= entries.length || label === undefined) {
        ok = false;
        break;
      }
      out[i] = label;
    }
    if (ok) return Array.from(out, (l) => l ?? '');
  }
  return fail(
    'ERR_INVALID_ARGUMENT',
    'Expected JSON labels to be an array of strings or an object mapping "0".."N-1" to a label or [id, label]',
  );
}

/**
 * Reads a labels file (see {@link parseLabels} for the formats).
 * @param path - the file
 * @throws {@link NetliteError} `ERR_IO` when the file cannot be read, `ERR_INVALID_ARGUMENT`
 *   when it holds no label
 * @example
 * ```ts
 * const labels = loadLabels('synset.txt');     // labels[i] names class i
 * ```
 */
export function loadLabels(path: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new NetliteError('ERR_IO', `Cannot read labels file '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const labels = parseLabels(text);
  if (labels.length === 0) fail('ERR_INVALID_ARGUMENT', `Labels file '${path}' holds no label`);
  return labels;
}

/**
 * Already probabilities? Values in [0, 1] summing to about 1. The bounds are loose below
 * because a quantized softmax rounds every class down (an int8 MobileNet's rows sum to ~0.95).
 */
function isDistribution(row: Float64Array): boolean {
  let sum = 0;
  for (const v of row) {
    if (!(v >= 0 && v <= 1)) return false;
    sum += v;
  }
  return sum > 0.5 && sum < 1.05;
}

function softmaxInPlace(row: Float64Array): void {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    row[i] = Math.exp(row[i] - max);
    sum += row[i];
  }
  for (let i = 0; i < row.length; i++) row[i] /= sum;
}

/**
 * The k best classes of each image in a classifier's output.
 *
 * @param output - scores: `[classes]` (one image) or `[N, classes]`; trailing dims of 1 (as in
 *   `[N, classes, 1, 1]`) are ignored. Any numeric type (`int64` is read as numbers).
 * @param options - see {@link TopKOptions}
 * @returns one list per image, best first
 * @throws {@link NetliteError} `ERR_SHAPE` for an output that is not one score per class
 * @example
 * ```ts
 * const [best] = topK(results.output, { k: 3, labels: loadLabels('synset.txt') });
 * console.log(best[0].label, best[0].score);
 * ```
 */
export function topK(output: Tensor, options: TopKOptions = {}): Prediction[][] {
  if (!(output instanceof Tensor)) fail('ERR_INVALID_ARGUMENT', 'Expected the output to be a Tensor');
  const { labels, softmax = 'auto' } = options;
  const k = options.k ?? 5;
  if (!Number.isSafeInteger(k) || k < 1) fail('ERR_INVALID_ARGUMENT', `Expected k to be a positive integer but received ${String(k)}`);
  if (softmax !== true && softmax !== false && softmax !== 'auto') {
    fail('ERR_INVALID_ARGUMENT', `Expected softmax to be true, false or 'auto' but received ${String(softmax)}`);
  }
  const dims = output.dims.slice();
  while (dims.length > 2 && dims[dims.length - 1] === 1) dims.pop();
  if (dims.length === 0 || dims.length > 2) {
    fail('ERR_SHAPE', `Expected scores shaped [classes] or [N, classes] but the output is ${formatDims(output.dims)}`);
  }
  const rows = dims.length === 2 ? dims[0] : 1;
  const classes = dims[dims.length - 1];
  if (classes === 0) fail('ERR_SHAPE', `The output ${formatDims(output.dims)} has no class`);
  const take = Math.min(k, classes);
  const data = output.data;
  const result: Prediction[][] = [];
  for (let r = 0; r < rows; r++) {
    const row = new Float64Array(classes);
    for (let c = 0; c < classes; c++) row[c] = Number(data[r * classes + c]);
    if (softmax === true || (softmax === 'auto' && !isDistribution(row))) softmaxInPlace(row);
    // Partial selection: keep the best `take` in a small sorted list (k is small, classes ~1000).
    const best: number[] = [];
    for (let c = 0; c < classes; c++) {
      const v = row[c];
      if (best.length === take && !(v > row[best[take - 1]])) continue;
      let i = best.length === take ? take - 1 : best.length;
      if (best.length < take) best.push(c);
      while (i > 0 && v > row[best[i - 1]]) {
        best[i] = best[i - 1];
        i--;
      }
      best[i] = c;
    }
    result.push(best.map((c) => Object.freeze({ index: c, label: labels?.[c] ?? `#${c}`, score: row[c] })));
  }
  return result;
}
