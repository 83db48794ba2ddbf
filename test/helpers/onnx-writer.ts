// A small ONNX protobuf writer for tests: builds ModelProto bytes from plain objects.
// Field numbers follow onnx/onnx.proto (IR version 8); only what tests need.
/* eslint-disable no-bitwise */

/** ONNX TensorProto.DataType values. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  BOOL: 9,
  DOUBLE: 11,
} as const;

class Writer {
  private chunks: number[] = [];

  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    return this.tag(field, 0).varint(value);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.chunks.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  float(field: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.tag(field, 5);
    for (const x of b) this.chunks.push(x);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** A dim: a fixed size, or a symbolic name such as 'N'. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: number;
  /** Omit for an unknown rank. */
  shape?: Dim[];
}

export interface TensorInit {
  name: string;
  dataType: number;
  dims: number[];
  /** Little-endian bytes of the elements (raw_data). */
  raw?: Uint8Array;
  floats?: number[];
  int64s?: Array<number | bigint>;
}

export type AttributeValue =
  | { f: number }
  | { i: number | bigint }
  | { s: string }
  | { floats: number[] }
  | { ints: Array<number | bigint> }
  | { t: TensorInit };

export interface NodeInit {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

export interface GraphInit {
  name?: string;
  nodes: NodeInit[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: TensorInit[];
}

export interface ModelInit {
  graph: GraphInit;
  opset?: number;
  irVersion?: number;
}

function tensorProto(t: TensorInit): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d); // dims
  w.int(2, t.dataType); // data_type
  if (t.floats) for (const f of t.floats) w.float(4, f); // float_data (unpacked is valid proto)
  if (t.int64s) for (const i of t.int64s) w.int(7, i); // int64_data
  w.string(8, t.name); // name
  if (t.raw) w.bytes(9, t.raw); // raw_data
  return w;
}

function valueInfoProto(v: ValueInfo): Writer {
  const tensorType = new Writer().int(1, v.elemType); // TypeProto.Tensor.elem_type
  if (v.shape) {
    const shape = new Writer();
    for (const d of v.shape) {
      const dim = new Writer();
      if (typeof d === 'number') dim.int(1, d); // dim_value
      else dim.string(2, d); // dim_param
      shape.message(1, dim); // TensorShapeProto.dim
    }
    tensorType.message(2, shape); // TypeProto.Tensor.shape
  }
  const type = new Writer().message(1, tensorType); // TypeProto.tensor_type
  return new Writer().string(1, v.name).message(2, type); // ValueInfoProto.name, .type
}

function attributeProto(name: string, value: AttributeValue): Writer {
  const w = new Writer().string(1, name);
  if ('f' in value) w.float(2, value.f).int(20, 1);
  else if ('i' in value) w.int(3, value.i).int(20, 2);
  else if ('s' in value) w.string(4, value.s).int(20, 3);
  else if ('t' in value) w.message(5, tensorProto(value.t)).int(20, 4);
  else if ('floats' in value) {
    for (const f of value.floats) w.float(7, f);
    w.int(20, 6);
  } else {
    for (const i of value.ints) w.int(8, i);
    w.int(20, 7);
  }
  return w;
}

function nodeProto(n: NodeInit, index: number): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.opType}_${index}`);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, attributeProto(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

/** Encodes a ModelProto. */
export function encodeModel(model: ModelInit): Uint8Array {
  const g = new Writer();
  model.graph.nodes.forEach((n, i) => g.message(1, nodeProto(n, i)));
  g.string(2, model.graph.name ?? 'test');
  for (const t of model.graph.initializers ?? []) g.message(5, tensorProto(t));
  for (const v of model.graph.inputs) g.message(11, valueInfoProto(v));
  for (const v of model.graph.outputs) g.message(12, valueInfoProto(v));
  const opset = new Writer().string(1, '').int(2, model.opset ?? 13);
  return new Writer()
    .int(1, model.irVersion ?? 8) // ir_version
    .string(2, 'netlite-tests') // producer_name
    .message(7, g) // graph
    .message(8, opset) // opset_import
    .finish();
}

/** Little-endian bytes of a float32 array, for TensorInit.raw. */
export function rawFloats(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** A model with one elementwise node: out = op(a[, b]), inputs [N, ...rest] float32. */
export function unaryModel(opType: string, rest: number[] = [4]): Uint8Array {
  const shape: Dim[] = ['N', ...rest];
  return encodeModel({
    graph: {
      nodes: [{ opType, inputs: ['x'], outputs: ['y'] }],
      inputs: [{ name: 'x', elemType: DataType.FLOAT, shape }],
      outputs: [{ name: 'y', elemType: DataType.FLOAT, shape }],
    },
  });
}

/** y = a + b with a: [N, k] float32 and b: [N, k] float32. */
export function addModel(k = 4): Uint8Array {
  const shape: Dim[] = ['N', k];
  return encodeModel({
    graph: {
      nodes: [{ opType: 'Add', inputs: ['a', 'b'], outputs: ['sum'] }],
      inputs: [
        { name: 'a', elemType: DataType.FLOAT, shape },
        { name: 'b', elemType: DataType.FLOAT, shape },
      ],
      outputs: [{ name: 'sum', elemType: DataType.FLOAT, shape }],
    },
  });
}
