/**
 * A small, read-only, bounded reader of ONNX files (protobuf wire format), for `netlite info`:
 * opsets, op histogram, initializer sizes, declared shapes. It decodes only the fields it needs
 * and skips the rest; malformed bytes raise a NetliteError naming the byte offset.
 *
 * Field numbers follow onnx/onnx.proto3 (ModelProto, GraphProto, NodeProto, TensorProto,
 * ValueInfoProto, TypeProto, AttributeProto).
 * @packageDocumentation
 * @internal
 */
import { NetliteError } from '../errors';

/** One `opset_import` entry; domain `''` is the default ONNX domain (`ai.onnx`). */
export interface OnnxOpset {
  readonly domain: string;
  readonly version: number;
}

/** A dim as declared: a number, a symbolic name (`'N'`), or `null` when absent. */
export type OnnxDim = number | string | null;

/** A graph input or output as declared in the file. */
export interface OnnxValueInfo {
  readonly name: string;
  /** ONNX TensorProto.DataType number (1 = float, 2 = uint8, 7 = int64...); 0 if absent. */
  readonly elemType: number;
  /** Undefined when the file declares no shape. */
  readonly dims?: readonly OnnxDim[];
}

/** One node of the main graph (subgraph nodes are only counted, in {@link OnnxSummary.opCounts}). */
export interface OnnxNode {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer and integer-list attributes (kernel_shape, group, strides, transA...). */
  readonly ints: ReadonlyMap<string, number | readonly number[]>;
  /** Tensor attribute's dims (e.g. a Constant node's `value`). */
  readonly tensorDims?: readonly number[];
  /** Element type of a Constant node's `value`. */
  readonly tensorType?: number;
}

/** An initializer: dims and element type; its bytes are not kept. */
export interface OnnxInitializer {
  readonly dims: readonly number[];
  readonly elemType: number;
}

/** What `netlite info` needs from an ONNX file. */
export interface OnnxSummary {
  readonly irVersion: number;
  readonly producer: string;
  readonly producerVersion: string;
  readonly opsets: readonly OnnxOpset[];
  readonly graphName: string;
  /** Graph inputs that are not initializers. */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  readonly nodes: readonly OnnxNode[];
  /** Op histogram over the main graph and its subgraphs, keyed `op` or `domain:op`. */
  readonly opCounts: ReadonlyMap<string, number>;
  readonly initializers: ReadonlyMap<string, OnnxInitializer>;
  /** Shapes the file declares for intermediate values (`value_info`), by name. */
  readonly valueShapes: ReadonlyMap<string, readonly OnnxDim[]>;
  /** Elements in initializers and Constant nodes. */
  readonly parameterCount: number;
  /** Bytes of those elements as stored (sub-byte types rounded up). */
  readonly parameterBytes: number;
  /** True if any initializer lives in an external data file. */
  readonly externalData: boolean;
}

/** Bits per element of each ONNX data type; 0 for strings and unknown types. */
const elemBits: Readonly<Record<number, number>> = {
  1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 8: 0, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64,
  14: 64, 15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4,
};

const elemNames: Readonly<Record<number, string>> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string',
  9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64',
  15: 'complex128', 16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2',
  20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1',
};

/** The name of an ONNX element type number (`'float32'`, `'uint8'`...). */
export function onnxTypeName(elemType: number): string {
  return elemNames[elemType] ?? (elemType === 0 ? '?' : `type${elemType}`);
}

/** Subgraphs (If/Loop/Scan bodies) deeper than this are not descended into. */
const maxGraphDepth = 16;

// Wire types.
const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

/** A bounded cursor over one protobuf message. */
class Reader {
  pos: number;
  constructor(readonly buf: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  private bad(what: string): never {
    throw new NetliteError('ERR_INVALID_MODEL', `Malformed ONNX file: ${what} at byte ${this.pos}`);
  }

  more(): boolean {
    return this.pos < this.end;
  }

  /** A varint as a JS number; exact up to 2^53, and values past that only feed sizes we cap anyway. */
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.bad('truncated varint');
      const b = this.buf[this.pos++];
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    return this.bad('varint longer than 10 bytes');
  }

  /** A varint read as a signed int64 (two's complement), for dims and attribute ints. */
  signedVarint(): number {
    const v = this.varint();
    return v >= 2 ** 63 ? v - 2 ** 64 : v;
  }

  tag(): { field: number; wire: number } {
    const t = this.varint();
    return { field: Math.floor(t / 8), wire: t % 8 };
  }

  /** Bounds of a length-delimited field; advances past it. */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) this.bad(`length ${len} past the end of its message`);
    this.pos = start + len;
    return [start, start + len];
  }

  string(): string {
    const [s, e] = this.bytes();
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + s, e - s).toString('utf8');
  }

  sub(): Reader {
    const [s, e] = this.bytes();
    return new Reader(this.buf, s, e);
  }

  skip(wire: number): void {
    switch (wire) {
      case VARINT:
        this.varint();
        return;
      case I64:
        if (this.end - this.pos < 8) this.bad('truncated fixed64');
        this.pos += 8;
        return;
      case LEN:
        this.bytes();
        return;
      case I32:
        if (this.end - this.pos < 4) this.bad('truncated fixed32');
        this.pos += 4;
        return;
      default:
        this.bad(`unsupported wire type ${wire}`);
    }
  }

  /** A repeated int64 field, packed (LEN) or one element (VARINT). */
  int64s(wire: number, out: number[]): void {
    if (wire === LEN) {
      const r = this.sub();
      while (r.more()) out.push(r.signedVarint());
    } else if (wire === VARINT) {
      out.push(this.signedVarint());
    } else {
      this.skip(wire);
    }
  }
}

interface MutableCounts {
  ops: Map<string, number>;
  params: number;
  bytes: number;
  external: boolean;
}

function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= Math.max(0, d);
  return n;
}

function countTensor(dims: readonly number[], elemType: number, counts: MutableCounts): void {
  const n = elementCount(dims);
  counts.params += n;
  counts.bytes += Math.ceil((n * (elemBits[elemType] ?? 0)) / 8);
}

function readTensor(r: Reader): { name: string; dims: number[]; elemType: number; external: boolean } {
  const dims: number[] = [];
  let name = '';
  let elemType = 0;
  let external = false;
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field === 1) r.int64s(wire, dims);
    else if (field === 2 && wire === VARINT) elemType = r.varint();
    else if (field === 8 && wire === LEN) name = r.string();
    else if (field === 14 && wire === VARINT) external = r.varint() === 1;
    else r.skip(wire);
  }
  return { name, dims, elemType, external };
}

function readShape(r: Reader): OnnxDim[] {
  const dims: OnnxDim[] = [];
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) {
      const d = r.sub();
      let dim: OnnxDim = null;
      while (d.more()) {
        const t = d.tag();
        if (t.field === 1 && t.wire === VARINT) dim = d.signedVarint();
        else if (t.field === 2 && t.wire === LEN) dim = d.string();
        else d.skip(t.wire);
      }
      dims.push(dim);
    } else {
      r.skip(wire);
    }
  }
  return dims;
}

function readValueInfo(r: Reader): OnnxValueInfo {
  let name = '';
  let elemType = 0;
  let dims: OnnxDim[] | undefined;
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) {
      name = r.string();
    } else if (field === 2 && wire === LEN) {
      const type = r.sub();
      while (type.more()) {
        const t = type.tag();
        if (t.field === 1 && t.wire === LEN) {
          // TypeProto.tensor_type
          const tt = type.sub();
          while (tt.more()) {
            const u = tt.tag();
            if (u.field === 1 && u.wire === VARINT) elemType = tt.varint();
            else if (u.field === 2 && u.wire === LEN) dims = readShape(tt.sub());
            else tt.skip(u.wire);
          }
        } else {
          type.skip(t.wire);
        }
      }
    } else {
      r.skip(wire);
    }
  }
  return dims === undefined ? { name, elemType } : { name, elemType, dims };
}

interface ParsedGraph {
  name: string;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  nodes: OnnxNode[];
  initializers: Map<string, OnnxInitializer>;
  valueShapes: Map<string, readonly OnnxDim[]>;
}

function readNode(r: Reader, counts: MutableCounts, depth: number): OnnxNode {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const ints = new Map<string, number | readonly number[]>();
  let opType = '';
  let domain = '';
  let name = '';
  let tensorDims: number[] | undefined;
  let tensorType: number | undefined;
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) inputs.push(r.string());
    else if (field === 2 && wire === LEN) outputs.push(r.string());
    else if (field === 3 && wire === LEN) name = r.string();
    else if (field === 4 && wire === LEN) opType = r.string();
    else if (field === 7 && wire === LEN) domain = r.string();
    else if (field === 5 && wire === LEN) {
      const a = r.sub();
      let attrName = '';
      let i: number | undefined;
      const list: number[] = [];
      let isList = false;
      while (a.more()) {
        const t = a.tag();
        if (t.field === 1 && t.wire === LEN) attrName = a.string();
        else if (t.field === 3 && t.wire === VARINT) i = a.signedVarint();
        else if (t.field === 8) {
          isList = true;
          a.int64s(t.wire, list);
        } else if (t.field === 5 && t.wire === LEN) {
          const tensor = readTensor(a.sub());
          tensorDims = tensor.dims;
          tensorType = tensor.elemType;
        } else if (t.field === 6 && t.wire === LEN) {
          readGraph(a.sub(), counts, depth + 1);
        } else if (t.field === 11 && t.wire === LEN) {
          readGraph(a.sub(), counts, depth + 1);
        } else {
          a.skip(t.wire);
        }
      }
      if (isList) ints.set(attrName, list);
      else if (i !== undefined) ints.set(attrName, i);
    } else {
      r.skip(wire);
    }
  }
  const key = domain && domain !== 'ai.onnx' ? `${domain}:${opType}` : opType;
  counts.ops.set(key, (counts.ops.get(key) ?? 0) + 1);
  if (opType === 'Constant' && tensorDims !== undefined && tensorType !== undefined) {
    countTensor(tensorDims, tensorType, counts);
  }
  const node: OnnxNode = { opType, domain, name, inputs, outputs, ints };
  return tensorDims === undefined ? node : { ...node, tensorDims, tensorType };
}

function readGraph(r: Reader, counts: MutableCounts, depth: number): ParsedGraph {
  const graph: ParsedGraph = {
    name: '',
    inputs: [],
    outputs: [],
    nodes: [],
    initializers: new Map(),
    valueShapes: new Map(),
  };
  if (depth > maxGraphDepth) return graph;
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === LEN) {
      graph.nodes.push(readNode(r.sub(), counts, depth));
    } else if (field === 2 && wire === LEN) {
      graph.name = r.string();
    } else if (field === 5 && wire === LEN) {
      const t = readTensor(r.sub());
      graph.initializers.set(t.name, { dims: t.dims, elemType: t.elemType });
      countTensor(t.dims, t.elemType, counts);
      if (t.external) counts.external = true;
    } else if (field === 11 && wire === LEN) {
      graph.inputs.push(readValueInfo(r.sub()));
    } else if (field === 12 && wire === LEN) {
      graph.outputs.push(readValueInfo(r.sub()));
    } else if (field === 13 && wire === LEN) {
      const v = readValueInfo(r.sub());
      if (v.dims) graph.valueShapes.set(v.name, v.dims);
    } else {
      r.skip(wire);
    }
  }
  return graph;
}

/**
 * Reads the summary of an ONNX model from its bytes.
 * @throws {@link NetliteError} `ERR_INVALID_MODEL` for bytes that are not a well-formed ModelProto
 */
export function readOnnxSummary(bytes: Uint8Array): OnnxSummary {
  const r = new Reader(bytes, 0, bytes.length);
  const counts: MutableCounts = { ops: new Map(), params: 0, bytes: 0, external: false };
  let irVersion = 0;
  let producer = '';
  let producerVersion = '';
  const opsets: OnnxOpset[] = [];
  let graph: ParsedGraph | undefined;
  while (r.more()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === VARINT) {
      irVersion = r.varint();
    } else if (field === 2 && wire === LEN) {
      producer = r.string();
    } else if (field === 3 && wire === LEN) {
      producerVersion = r.string();
    } else if (field === 8 && wire === LEN) {
      const o = r.sub();
      let domain = '';
      let version = 0;
      while (o.more()) {
        const t = o.tag();
        if (t.field === 1 && t.wire === LEN) domain = o.string();
        else if (t.field === 2 && t.wire === VARINT) version = o.varint();
        else o.skip(t.wire);
      }
      opsets.push({ domain: domain === 'ai.onnx' ? '' : domain, version });
    } else if (field === 7 && wire === LEN) {
      graph = readGraph(r.sub(), counts, 0);
    } else {
      r.skip(wire);
    }
  }
  if (!graph || irVersion === 0) {
    throw new NetliteError('ERR_INVALID_MODEL', 'Not an ONNX model: no graph or IR version found');
  }
  const initializers = graph.initializers;
  return {
    irVersion,
    producer,
    producerVersion,
    opsets,
    graphName: graph.name,
    inputs: graph.inputs.filter((i) => !initializers.has(i.name)),
    outputs: graph.outputs,
    nodes: graph.nodes,
    opCounts: counts.ops,
    initializers,
    valueShapes: graph.valueShapes,
    parameterCount: counts.params,
    parameterBytes: counts.bytes,
    externalData: counts.external,
  };
}

/**
 * The same model with the named values also declared graph outputs, so that one run reports
 * their shapes. Works on the wire format: the graph message is copied with extra `output`
 * entries (a name and an untyped tensor type) appended; everything else is kept byte for byte.
 * @returns the new bytes, or undefined when the file has no graph
 */
export function exposeValues(bytes: Uint8Array, summary: OnnxSummary, names: Iterable<string>): Uint8Array | undefined {
  const declared = new Set(summary.outputs.map((o) => o.name));
  const extra: string[] = [];
  for (const name of names) {
    if (name && !declared.has(name)) {
      declared.add(name);
      extra.push(name);
    }
  }
  const r = new Reader(bytes, 0, bytes.length);
  const parts: Uint8Array[] = [];
  let found = false;
  while (r.more()) {
    const fieldStart = r.pos;
    const { field, wire } = r.tag();
    if (field === 7 && wire === LEN) {
      const [s, e] = r.bytes();
      const appended: Uint8Array[] = [];
      for (const name of extra) {
        const nameBytes = Buffer.from(name, 'utf8');
        // ValueInfoProto { name, type: TypeProto { tensor_type: {} } }: a tensor of any type and shape.
        const valueInfo = Buffer.concat([encodeVarint(0x0a), encodeVarint(nameBytes.length), nameBytes, typeAnyTensor]);
        appended.push(encodeVarint((12 << 3) | LEN), encodeVarint(valueInfo.length), valueInfo);
      }
      const body = Buffer.concat([bytes.subarray(s, e), ...appended]);
      parts.push(encodeVarint((7 << 3) | LEN), encodeVarint(body.length), body);
      found = true;
    } else {
      r.skip(wire);
      parts.push(bytes.subarray(fieldStart, r.pos));
    }
  }
  return found ? Buffer.concat(parts) : undefined;
}

const typeAnyTensor = Uint8Array.from([0x12, 0x02, 0x0a, 0x00]);

function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Uint8Array.from(out);
}

/** Ops whose FLOPs are counted, and where their weight (B) operand is. */
const flopOps: Readonly<Record<string, { a: number; b: number }>> = {
  Conv: { a: 0, b: 1 },
  ConvTranspose: { a: 0, b: 1 },
  ConvInteger: { a: 0, b: 1 },
  QLinearConv: { a: 0, b: 3 },
  Gemm: { a: 0, b: 1 },
  MatMul: { a: 0, b: 1 },
  MatMulInteger: { a: 0, b: 1 },
  QLinearMatMul: { a: 0, b: 3 },
};

/** The values whose shapes {@link estimateFlops} needs (operands and outputs of counted ops). */
export function flopValueNames(summary: OnnxSummary): string[] {
  const names = new Set<string>();
  for (const n of summary.nodes) {
    const at = flopOps[n.opType];
    if (!at || (n.domain && n.domain !== 'ai.onnx')) continue;
    for (const v of [n.inputs[at.a], n.inputs[at.b], n.outputs[0]]) {
      if (v && !summary.initializers.has(v)) names.add(v);
    }
  }
  return [...names];
}

/** FLOPs of a model, counted as 2 x multiply-accumulates of its Conv, Gemm and MatMul ops. */
export interface FlopEstimate {
  /** Total over the nodes whose shapes were known. */
  readonly flops: number;
  /** Counted nodes by op type. */
  readonly byOp: ReadonlyMap<string, number>;
  /** Conv/Gemm/MatMul nodes left out because a shape was unknown. */
  readonly unknown: number;
}

/**
 * Estimates FLOPs from shapes: for Conv, 2 x output elements x (input channels / group x
 * kernel size), read off the weight's dims; ConvTranspose counts per input element; Gemm and
 * MatMul, 2 x output elements x the shared dim. Bias adds, activations and pooling are left
 * out, as in most published figures.
 * @param shapes - dims of values by name (from a run); initializers' dims are known already
 */
export function estimateFlops(summary: OnnxSummary, shapes: ReadonlyMap<string, readonly number[]>): FlopEstimate {
  const dimsOf = (name: string | undefined): readonly number[] | undefined =>
    name === undefined ? undefined : summary.initializers.get(name)?.dims ?? shapes.get(name);
  const product = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
  const byOp = new Map<string, number>();
  let total = 0;
  let unknown = 0;
  for (const n of summary.nodes) {
    const at = flopOps[n.opType];
    if (!at || (n.domain && n.domain !== 'ai.onnx')) continue;
    const a = dimsOf(n.inputs[at.a]);
    const b = dimsOf(n.inputs[at.b]);
    const y = dimsOf(n.outputs[0]);
    let f: number | undefined;
    if (n.opType.includes('Conv')) {
      if (n.opType === 'ConvTranspose') {
        if (a && b && b.length >= 2) f = 2 * product(a) * product(b.slice(1));
      } else if (y && b && b.length >= 2) {
        f = 2 * product(y) * product(b.slice(1));
      }
    } else if (y && a && a.length >= 1) {
      const transA = n.opType === 'Gemm' && n.ints.get('transA') === 1;
      const k = n.opType === 'Gemm' ? a[transA ? 0 : 1] : a[a.length - 1];
      if (k !== undefined) f = 2 * product(y) * k;
    }
    if (f === undefined || !Number.isFinite(f)) {
      unknown++;
      continue;
    }
    total += f;
    byOp.set(n.opType, (byOp.get(n.opType) ?? 0) + f);
  }
  return { flops: total, byOp, unknown };
}
