/**
 * `netlite bench <model>`: latency distribution, throughput and memory, per thread count and
 * batch size.
 * @packageDocumentation
 * @internal
 */
import * as os from 'os';

import { Feeds, Predictor, TensorInfo } from '../predictor';
import { Tensor, formatDims } from '../tensor';
import { CliIo, Command, ParsedArgs, UsageError } from './args';
import { checkModelPath } from './common';
import { Progress, formatBytes, formatMs, table } from './format';

/** One measured configuration. */
interface BenchRow {
  threads: number;
  batch: number;
  concurrency: number;
  runs: number;
  minMs: number;
  medianMs: number;
  p90Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Items (batch elements) per second, over the wall time of the timed runs. */
  throughput: number;
  weightsBytes: number;
  arenaBytes: number;
  /** Resident set size after the runs. */
  rssBytes: number;
  skipped?: string;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** A small deterministic generator (mulberry32), so every run feeds the same data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random feeds with the batch dim set; undefined (and why) when the input does not allow it. */
function feedsFor(inputs: readonly TensorInfo[], batch: number): { feeds?: Feeds; why?: string } {
  const next = random(42);
  const feeds: Feeds = {};
  for (const info of inputs) {
    const dims = info.shape.slice();
    if (dims.length > 0) {
      if (dims[0] < 0) dims[0] = batch;
      else if (dims[0] !== batch) return { why: `input '${info.name}' has a fixed batch of ${dims[0]}` };
    }
    if (dims.some((d) => d < 0)) return { why: `input '${info.name}' ${formatDims(info.shape)} has free dims besides the batch` };
    const size = dims.reduce((a, b) => a * b, 1);
    switch (info.type) {
      case 'float32':
        feeds[info.name] = new Tensor('float32', Float32Array.from({ length: size }, () => next() * 2 - 1), dims);
        break;
      case 'uint8':
        feeds[info.name] = new Tensor('uint8', Uint8Array.from({ length: size }, () => Math.floor(next() * 256)), dims);
        break;
      case 'int8':
        feeds[info.name] = new Tensor('int8', Int8Array.from({ length: size }, () => Math.floor(next() * 256) - 128), dims);
        break;
      case 'int32':
        feeds[info.name] = new Tensor('int32', new Int32Array(size), dims);
        break;
      case 'int64':
        feeds[info.name] = new Tensor('int64', new BigInt64Array(size), dims);
        break;
      case 'bool':
        feeds[info.name] = new Tensor('bool', new Uint8Array(size), dims);
        break;
    }
  }
  return { feeds };
}

async function measure(
  predictor: Predictor,
  feeds: Feeds,
  runs: number,
  warmup: number,
  concurrency: number,
  minSeconds: number,
  progress: Progress,
): Promise<{ times: number[]; wallMs: number }> {
  for (let i = 0; i < warmup; i++) {
    await predictor.predict(feeds);
    progress.tick();
  }
  const times: number[] = [];
  const start = performance.now();
  const deadline = start + minSeconds * 1000;
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < runs || performance.now() < deadline) {
      started++;
      const t0 = performance.now();
      await predictor.predict(feeds);
      times.push(performance.now() - t0);
      if (times.length <= runs) progress.tick();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { times, wallMs: performance.now() - start };
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const o = args.options;
  const file = args.positionals[0];
  const cores = os.cpus().length || 1;
  const threadList = (o.threads as number[] | undefined) ?? [...new Set([1, cores])];
  const batchList = (o.batch as number[] | undefined) ?? [1];
  const runs = (o.runs as number | undefined) ?? 20;
  const warmup = (o.warmup as number | undefined) ?? 3;
  const concurrency = (o.concurrency as number | undefined) ?? 1;
  const minSeconds = (o.time as number | undefined) ?? 0;
  if (threadList.length * batchList.length > 64) throw new UsageError('too many configurations (threads x batch > 64)');
  checkModelPath(file);

  const showProgress = o.progress === true || (o.progress === undefined && io.stderr.isTTY === true);
  const progress = new Progress(io.stderr, threadList.length * batchList.length * (runs + warmup), showProgress);
  const rows: BenchRow[] = [];
  let inputText = '';
  for (const threads of threadList) {
    const predictor = await Predictor.load(file, { threads });
    try {
      inputText = predictor.inputs.map((i) => `${i.name} ${i.type} ${formatDims(i.shape)}`).join(', ');
      for (const batch of batchList) {
        const base = {
          threads,
          batch,
          concurrency,
          runs: 0,
          minMs: NaN,
          medianMs: NaN,
          p90Ms: NaN,
          p99Ms: NaN,
          meanMs: NaN,
          throughput: NaN,
          weightsBytes: predictor.memory.weightsBytes,
          arenaBytes: predictor.memory.arenaBytes,
          rssBytes: process.memoryUsage().rss,
        };
        const { feeds, why } = feedsFor(predictor.inputs, batch);
        if (!feeds) {
          rows.push({ ...base, skipped: why });
          progress.tick('', runs + warmup);
          continue;
        }
        const { times, wallMs } = await measure(predictor, feeds, runs, warmup, concurrency, minSeconds, progress);
        const sorted = [...times].sort((a, b) => a - b);
        rows.push({
          ...base,
          runs: times.length,
          minMs: sorted[0],
          medianMs: percentile(sorted, 50),
          p90Ms: percentile(sorted, 90),
          p99Ms: percentile(sorted, 99),
          meanMs: times.reduce((a, b) => a + b, 0) / times.length,
          throughput: (times.length * batch) / (wallMs / 1000),
          rssBytes: process.memoryUsage().rss,
        });
      }
    } finally {
      predictor.dispose();
    }
  }
  progress.end();
  const peakRss = process.resourceUsage().maxRSS * 1024;
  const measured = rows.filter((r) => !r.skipped);

  if (o.json) {
    io.stdout.write(`${JSON.stringify({ model: file, input: inputText, cores, results: rows, peakRssBytes: peakRss }, null, 2)}\n`);
  } else {
    const first = rows[0];
    io.stdout.write(`model   ${file}\ninput   ${inputText}\nmemory  weights ${formatBytes(first.weightsBytes)}, activations ${formatBytes(first.arenaBytes)} per run at the declared shape; peak RSS ${formatBytes(peakRss)}\n`);
    io.stdout.write(`runs    ${runs} timed after ${warmup} warm-up${concurrency > 1 ? `, ${concurrency} in flight` : ''}; times in ms; ${cores} cores\n\n`);
    const header = ['threads', 'batch', 'runs', 'min', 'median', 'p90', 'p99', 'mean', 'items/s', 'RSS'];
    const body = rows.map((r) =>
      r.skipped
        ? [String(r.threads), String(r.batch), 'skipped', '', '', '', '', '', '', '']
        : [
            String(r.threads),
            String(r.batch),
            String(r.runs),
            formatMs(r.minMs),
            formatMs(r.medianMs),
            formatMs(r.p90Ms),
            formatMs(r.p99Ms),
            formatMs(r.meanMs),
            r.throughput >= 100 ? r.throughput.toFixed(0) : r.throughput.toFixed(1),
            formatBytes(r.rssBytes),
          ],
    );
    io.stdout.write(`${table([header, ...body], ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'])}\n`);
    for (const r of rows) if (r.skipped) io.stdout.write(`threads ${r.threads}, batch ${r.batch} skipped: ${r.skipped}\n`);
  }
  if (measured.length === 0) {
    io.stderr.write(`${io.program} bench: nothing was measured: ${rows[0]?.skipped ?? 'no configuration'}\n`);
    return 1;
  }
  return 0;
}

/** The `bench` command. */
export const benchCommand: Command = {
  name: 'bench',
  summary: 'Benchmark a model: latency (min, median, p90, p99), throughput and memory per thread count and batch size.',
  usage: '<model> [options]',
  description:
    'Feeds fixed pseudo-random inputs of the declared shapes. Each thread count loads the model once; each batch ' +
    'size needs a free batch dim. Throughput counts batch items per second of wall time.',
  options: [
    { name: 'threads', short: 't', type: 'list', value: 'N,...', integers: true, min: 0, description: 'Thread counts to try (default 1 and the number of cores)' },
    { name: 'batch', short: 'b', type: 'list', value: 'N,...', integers: true, min: 1, description: 'Batch sizes to try (default 1)' },
    { name: 'runs', short: 'n', type: 'integer', value: 'N', min: 1, description: 'Timed runs per configuration (default 20)' },
    { name: 'warmup', short: 'w', type: 'integer', value: 'N', min: 0, description: 'Untimed runs first (default 3)' },
    { name: 'time', type: 'number', value: 'SECONDS', min: 0, description: 'Keep running until at least this long has passed (default 0)' },
    { name: 'concurrency', short: 'c', type: 'integer', value: 'N', min: 1, description: 'Runs in flight at once (default 1)' },
    { name: 'json', type: 'boolean', description: 'Print JSON' },
    { name: 'progress', type: 'boolean', description: 'Show a progress bar (default: on a terminal)' },
  ],
  examples: ['netlite bench resnet18.onnx --threads 1,2 --runs 50', 'netlite bench mobilenet.onnx --batch 1,8 --json'],
  run,
};
