/**
 * `netlite info <model>`: what a model is and what running it costs.
 * @packageDocumentation
 * @internal
 */
import * as fs from 'fs';

import { NetliteError, toNetliteError } from '../errors';
import { binding } from '../native';
import { Feeds, Predictor, TensorInfo } from '../predictor';
import { Tensor, formatDims } from '../tensor';
import { CliIo, Command, ParsedArgs } from './args';
import { checkModelPath, threadsOption } from './common';
import { formatBytes, formatCount, formatSi, table } from './format';
import { OnnxDim, OnnxSummary, estimateFlops, exposeValues, flopValueNames, onnxTypeName, readOnnxSummary } from './onnx-info';

/** One entry of the engine's op registry (`binding().ops()`, from netlite_op_info). */
interface OpDef {
  opType: string;
  domain: string;
  sinceVersion: number;
  maxVersion: number;
  notes: string;
}

/** Model files larger than this are refused (protobuf itself stops at 2 GiB). */
const maxModelBytes = 2 ** 31;

function registry(): OpDef[] | undefined {
  const b = binding() as ReturnType<typeof binding> & { ops?: () => OpDef[] };
  return typeof b.ops === 'function' ? b.ops() : undefined;
}

/** Why netlite cannot run an op at the model's opset, or undefined when it can. */
function supportProblem(op: string, summary: OnnxSummary, ops: OpDef[]): string | undefined {
  const colon = op.lastIndexOf(':');
  const domain = colon >= 0 ? op.slice(0, colon) : '';
  const type = colon >= 0 ? op.slice(colon + 1) : op;
  const defs = ops.filter((d) => d.opType === type && (d.domain === domain || (d.domain === 'ai.onnx' && domain === '')));
  if (defs.length === 0) return 'not implemented';
  const opset = summary.opsets.find((o) => o.domain === domain)?.version;
  if (opset === undefined) return undefined;
  if (defs.some((d) => opset >= d.sinceVersion && (d.maxVersion <= 0 || opset <= d.maxVersion))) return undefined;
  const range = defs.map((d) => `${d.sinceVersion}-${d.maxVersion > 0 ? d.maxVersion : ''}`).join(', ');
  return `opset ${opset} not supported (netlite: ${range})`;
}

function dimsText(dims: readonly OnnxDim[] | undefined): string {
  if (!dims) return '?';
  return `[${dims.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

/** Zero feeds for every input, with free dim 0 (the batch) set to 1; undefined if another dim is free. */
function zeroFeeds(inputs: readonly TensorInfo[]): Feeds | undefined {
  const feeds: Feeds = {};
  for (const info of inputs) {
    const dims = info.shape.map((d, i) => (d < 0 && i === 0 ? 1 : d));
    if (dims.some((d) => d < 0)) return undefined;
    const size = dims.reduce((a, b) => a * b, 1);
    switch (info.type) {
      case 'float32':
        feeds[info.name] = new Tensor('float32', new Float32Array(size), dims);
        break;
      case 'int64':
        feeds[info.name] = new Tensor('int64', new BigInt64Array(size), dims);
        break;
      case 'int32':
        feeds[info.name] = new Tensor('int32', new Int32Array(size), dims);
        break;
      case 'int8':
        feeds[info.name] = new Tensor('int8', new Int8Array(size), dims);
        break;
      default:
        feeds[info.name] = new Tensor(info.type, new Uint8Array(size), dims);
    }
  }
  return feeds;
}

/** Runs a copy of the model that also outputs the operands of Conv/Gemm/MatMul, for their shapes. */
async function measureShapes(bytes: Uint8Array, summary: OnnxSummary, threads: number | undefined): Promise<Map<string, readonly number[]>> {
  const shapes = new Map<string, readonly number[]>();
  for (const [name, dims] of summary.valueShapes) {
    if (dims.every((d) => typeof d === 'number' && d >= 0)) shapes.set(name, dims as number[]);
  }
  const exposed = exposeValues(bytes, summary, flopValueNames(summary));
  if (!exposed) return shapes;
  const predictor = await Predictor.load(exposed, threads === undefined ? {} : { threads });
  try {
    const feeds = zeroFeeds(predictor.inputs);
    if (!feeds) throw new NetliteError('ERR_SHAPE', 'an input has a free dim other than the batch');
    const results = await predictor.predict(feeds);
    for (const [name, t] of Object.entries(results)) shapes.set(name, t.dims);
  } finally {
    predictor.dispose();
  }
  return shapes;
}

async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  const o = args.options;
  const file = args.positionals[0];
  const threads = o.threads as number | undefined;
  checkModelPath(file);
  const size = fs.statSync(file).size;
  if (size > maxModelBytes) throw new NetliteError('ERR_UNSUPPORTED', `'${file}' is ${formatBytes(size)}; ONNX files stop at 2 GiB`);
  const bytes = fs.readFileSync(file);
  const summary = readOnnxSummary(bytes);
  const ops = registry();

  let predictor: Predictor | undefined;
  let loadError: NetliteError | undefined;
  try {
    predictor = await Predictor.load(bytes, threads === undefined ? {} : { threads });
  } catch (e) {
    loadError = toNetliteError(e);
  }

  let flops: ReturnType<typeof estimateFlops> | undefined;
  let flopsNote = '';
  if (predictor && o.flops !== false) {
    try {
      flops = estimateFlops(summary, await measureShapes(bytes, summary, threads));
      if (flops.unknown) flopsNote = ` (${flops.unknown} node${flops.unknown === 1 ? '' : 's'} of unknown shape left out)`;
    } catch (e) {
      flopsNote = `unknown: ${(e as Error).message}`;
    }
  }

  const histogram = [...summary.opCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const problems = new Map<string, string>();
  if (ops) {
    for (const [op] of histogram) {
      const p = supportProblem(op, summary, ops);
      if (p) problems.set(op, p);
    }
  }
  const nodeCount = histogram.reduce((a, [, n]) => a + n, 0);
  const inputs = predictor?.inputs;
  const planShape = inputs ? inputs.map((i) => formatDims(i.shape.map((d, k) => (d < 0 && k === 0 ? 1 : d)))).join(', ') : '';

  if (o.json) {
    const json = {
      model: file,
      fileBytes: size,
      irVersion: summary.irVersion,
      producer: summary.producer ? `${summary.producer} ${summary.producerVersion}`.trim() : undefined,
      opsets: summary.opsets.map((s) => ({ domain: s.domain || 'ai.onnx', version: s.version })),
      inputs: (predictor?.inputs ?? summary.inputs.map((i) => ({ name: i.name, type: onnxTypeName(i.elemType), shape: i.dims }))),
      outputs: (predictor?.outputs ?? summary.outputs.map((i) => ({ name: i.name, type: onnxTypeName(i.elemType), shape: i.dims }))),
      nodes: nodeCount,
      ops: Object.fromEntries(histogram),
      unsupportedOps: ops ? Object.fromEntries(problems) : undefined,
      parameters: summary.parameterCount,
      parameterBytes: summary.parameterBytes,
      flops: flops?.flops,
      flopsByOp: flops ? Object.fromEntries(flops.byOp) : undefined,
      memory: predictor ? { weightsBytes: predictor.memory.weightsBytes, arenaBytes: predictor.memory.arenaBytes } : undefined,
      loadError: loadError ? { code: loadError.code, message: loadError.message } : undefined,
    };
    io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    const lines: string[][] = [];
    const add = (k: string, v: string): number => lines.push([k, v]);
    add('model', `${file}  (${formatBytes(size)}, ONNX IR ${summary.irVersion}${summary.producer ? `, from ${summary.producer} ${summary.producerVersion}`.trimEnd() : ''})`);
    add('opset', summary.opsets.map((s) => `${s.domain || 'ai.onnx'} ${s.version}`).join(', ') || '?');
    const io2 = (list: readonly { name: string; type: string; shape: readonly (number | string | null)[] | undefined }[]): string[] =>
      list.map((t) => `${t.name}  ${t.type} ${t.shape ? dimsText(t.shape.map((d) => (typeof d === 'number' && d < 0 ? 'N' : d))) : '?'}`);
    const ins = predictor
      ? io2(predictor.inputs)
      : io2(summary.inputs.map((i) => ({ name: i.name, type: onnxTypeName(i.elemType), shape: i.dims })));
    const outs = predictor
      ? io2(predictor.outputs)
      : io2(summary.outputs.map((i) => ({ name: i.name, type: onnxTypeName(i.elemType), shape: i.dims })));
    ins.forEach((t, i) => add(i === 0 ? 'inputs' : '', t));
    outs.forEach((t, i) => add(i === 0 ? 'outputs' : '', t));
    add('parameters', `${formatCount(summary.parameterCount)}  (${formatBytes(summary.parameterBytes)} in the file${summary.externalData ? ', external data' : ''})`);
    if (flops && flops.flops > 0) add('FLOPs', `${formatSi(flops.flops)} per run at ${planShape}, 2 x MACs of Conv/Gemm/MatMul${flopsNote}`);
    else if (o.flops !== false && predictor) add('FLOPs', flopsNote || 'none counted (no Conv, Gemm or MatMul)');
    if (predictor) {
      add('memory', `weights ${formatBytes(predictor.memory.weightsBytes)} once, + activations ${formatBytes(predictor.memory.arenaBytes)} per concurrent run (planned at ${planShape})`);
    } else if (loadError) {
      add('load', `FAILED: ${loadError.code}: ${loadError.message}`);
    }
    const status = ops
      ? problems.size === 0
        ? 'all supported by netlite'
        : `${problems.size} unsupported: ${[...problems.keys()].join(', ')}`
      : 'support unknown (this addon build does not list its ops)';
    add('ops', `${formatCount(nodeCount)} nodes, ${histogram.length} op types; ${status}`);
    io.stdout.write(`${table(lines)}\n\n`);
    const rows: string[][] = [['op', 'count', 'FLOPs', 'netlite']];
    for (const [op, n] of histogram) {
      const f = flops?.byOp.get(op);
      rows.push([op, String(n), f ? formatSi(f) : '', ops ? problems.get(op) ?? 'ok' : '?']);
    }
    io.stdout.write(`${table(rows, ['left', 'right', 'right', 'left'])}\n`);
  }
  if (loadError) {
    io.stderr.write(`${io.program} info: netlite cannot load this model: ${loadError.message.split('\n')[0]}\n`);
  }
  predictor?.dispose();
  return loadError ? 1 : 0;
}

/** The `info` command. */
export const infoCommand: Command = {
  name: 'info',
  summary: 'Describe a model: inputs, outputs, opsets, op histogram, parameters, FLOPs, memory, unsupported ops.',
  usage: '<model.onnx> [options]',
  description:
    'FLOPs count 2 x multiply-accumulates of Conv, Gemm and MatMul at batch 1, from shapes measured by one ' +
    'run on zeros. Memory is what netlite holds: the weights once, and one activation arena per run in flight. ' +
    'Exits with 1 when netlite cannot load the model (the rest is still printed).',
  options: [
    { name: 'json', type: 'boolean', description: 'Print JSON' },
    { name: 'flops', type: 'boolean', description: 'Count FLOPs (one run on zeros; default on, --no-flops to skip)' },
    threadsOption,
  ],
  examples: ['netlite info resnet18.onnx', 'netlite info model.onnx --json --no-flops'],
  run,
};
