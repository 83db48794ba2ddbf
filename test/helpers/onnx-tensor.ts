// Reads an ONNX TensorProto (.pb, as in the model zoo's test_data_set_N folders) into
// dims and a Float32Array: raw_data (field 9) or float_data (field 4).

export interface DecodedTensor {
  name: string;
  dataType: number;
  dims: number[];
  data: Float32Array;
}

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  }
  bytes(): Uint8Array {
    const n = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + n);
    if (out.length !== n) throw new Error('truncated field');
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

export function decodeTensor(buf: Uint8Array): DecodedTensor {
  const r = new Reader(buf);
  const dims: number[] = [];
  const floats: number[] = [];
  let raw: Uint8Array | undefined;
  let dataType = 0;
  let name = '';
  while (!r.done()) {
    const tag = Number(r.varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 0) dims.push(Number(r.varint()));
    else if (field === 1 && wire === 2) {
      const p = new Reader(r.bytes());
      while (!p.done()) dims.push(Number(p.varint()));
    } else if (field === 2 && wire === 0) dataType = Number(r.varint());
    else if (field === 4 && wire === 2) {
      const b = r.bytes();
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i + 4 <= b.length; i += 4) floats.push(dv.getFloat32(i, true));
    } else if (field === 4 && wire === 5) {
      const dv = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 4);
      floats.push(dv.getFloat32(0, true));
      r.pos += 4;
    } else if (field === 8 && wire === 2) name = new TextDecoder().decode(r.bytes());
    else if (field === 9 && wire === 2) raw = r.bytes();
    else r.skip(wire);
  }
  if (dataType !== 1) throw new Error(`only float tensors are supported here (data_type ${dataType})`);
  let data: Float32Array;
  if (raw) {
    data = new Float32Array(raw.length / 4);
    new Uint8Array(data.buffer).set(raw); // copy: raw may be unaligned
  } else {
    data = Float32Array.from(floats);
  }
  return { name, dataType, dims, data };
}
