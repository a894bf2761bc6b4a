// ONNX TensorProto → typed arrays, with every size claim checked against the bytes that back it
// (Note [Hostile ONNX files] in decode.ts), and typed arrays → Strata tensors.
import type { DType } from '../../core/dtype.js';
import { FormatError, ValueError, fmtShape } from '../../core/errors.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { ONNX_DTYPES } from './schema.js';
import { halfToNumber } from '../../io/half-floats.js';

/** A decoded ONNX tensor: floats as float32, every integer type as exact float64 values, bools as bytes. */
export interface OnnxTensor {
  /** The tensor's name in the graph. */
  name: string;
  /** ONNX's type name (FLOAT, INT64, ...). */
  onnxType: string;
  /** Its dimensions, outermost first. */
  shape: number[];
  /** Its values, row-major. */
  data: Float32Array | Float64Array | Uint8Array;
}

/** The most elements one tensor may claim (4 GiB of float32): a guard against absurd dims before any allocation. */
export const MAX_ELEMENTS = 2 ** 30;
/** The most axes one tensor may claim. */
export const MAX_RANK = 16;

const FLOATS = new Set(['FLOAT', 'DOUBLE', 'FLOAT16', 'BFLOAT16']);
const INTS = new Set(['UINT8', 'INT8', 'UINT16', 'INT16', 'INT32', 'INT64', 'UINT32', 'UINT64']);
const BYTES: Record<string, number> = {
  FLOAT: 4,
  DOUBLE: 8,
  FLOAT16: 2,
  BFLOAT16: 2,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  UINT32: 4,
  UINT64: 8,
  BOOL: 1,
};

/** The Strata dtype an ONNX element type becomes (floats → float32, integers → int32, bool → bool). */
export function strataDtype(onnxType: string, where: string): DType {
  if (FLOATS.has(onnxType)) return 'float32';
  if (INTS.has(onnxType)) return 'int32';
  if (onnxType === 'BOOL') return 'bool';
  throw new ValueError(`${where}: element type ${onnxType} is not supported (supported: floats, integers, bool)`);
}

/** Checks dims (non-negative integers, bounded rank and element count) and returns the element count. */
export function checkDims(dims: readonly number[], where: string): number {
  if (dims.length > MAX_RANK) throw new FormatError(`${where}: ${dims.length} dimensions; at most ${MAX_RANK} are supported`);
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new FormatError(`${where}: a dimension must be a non-negative integer; received ${fmtShape(dims)}`);
    n *= d;
    if (n > MAX_ELEMENTS) throw new FormatError(`${where}: dims ${fmtShape(dims)} claim more than ${MAX_ELEMENTS} elements`);
  }
  return n;
}

function fromRaw(raw: Uint8Array, type: string, n: number): Float32Array | Float64Array | Uint8Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (type === 'BOOL') return Uint8Array.from(raw, (b) => (b ? 1 : 0));
  const out = type === 'FLOAT' || FLOATS.has(type) ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    switch (type) {
      case 'FLOAT':
        out[i] = view.getFloat32(i * 4, true);
        break;
      case 'DOUBLE':
        out[i] = view.getFloat64(i * 8, true);
        break;
      case 'FLOAT16':
        out[i] = halfToNumber(view.getUint16(i * 2, true));
        break;
      case 'BFLOAT16':
        out[i] = new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0];
        break;
      case 'UINT8':
        out[i] = view.getUint8(i);
        break;
      case 'INT8':
        out[i] = view.getInt8(i);
        break;
      case 'UINT16':
        out[i] = view.getUint16(i * 2, true);
        break;
      case 'INT16':
        out[i] = view.getInt16(i * 2, true);
        break;
      case 'INT32':
        out[i] = view.getInt32(i * 4, true);
        break;
      case 'UINT32':
        out[i] = view.getUint32(i * 4, true);
        break;
      case 'INT64':
        out[i] = Number(view.getBigInt64(i * 8, true));
        break;
      case 'UINT64':
        out[i] = Number(view.getBigUint64(i * 8, true));
        break;
    }
  }
  return out;
}

/** The fields of a decoded TensorProto the importer reads (protobufjs's plain-object form). */
export interface TensorFields {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  uint64Data?: number[];
  stringData?: unknown[];
  rawData?: Uint8Array;
  name?: string;
  externalData?: { key?: string; value?: string }[];
  dataLocation?: number;
}

/** Converts a TensorProto, checking its dims against its data; `where` names the file and tensor for errors. */
export function readTensor(t: TensorFields, where: string): OnnxTensor {
  const name = t.name ?? '';
  const at = name ? `${where}: tensor '${name}'` : `${where}: a tensor`;
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0) {
    const file = t.externalData?.find((e) => e.key === 'location')?.value;
    throw new FormatError(
      `${at} keeps its data in an external file${file ? ` ('${file}')` : ''}; external data is not supported: save the model with its weights inside`,
    );
  }
  const onnxType = ONNX_DTYPES[t.dataType ?? 0];
  if (!onnxType || onnxType === 'UNDEFINED') throw new FormatError(`${at}: unknown data type ${t.dataType ?? 'missing'}`);
  const shape = (t.dims ?? []).map(Number);
  const n = checkDims(shape, at);
  if (onnxType === 'STRING' || onnxType.startsWith('COMPLEX')) throw new ValueError(`${at}: element type ${onnxType} is not supported`);
  if (t.rawData && t.rawData.length > 0) {
    const expected = n * BYTES[onnxType];
    if (t.rawData.length !== expected) {
      throw new FormatError(`${at}: dims ${fmtShape(shape)} of ${onnxType} need ${expected} bytes of raw_data; the file holds ${t.rawData.length}`);
    }
    return { name, onnxType, shape, data: fromRaw(t.rawData, onnxType, n) };
  }
  const field =
    onnxType === 'FLOAT'
      ? t.floatData
      : onnxType === 'DOUBLE'
        ? t.doubleData
        : onnxType === 'INT64'
          ? t.int64Data
          : onnxType === 'UINT32' || onnxType === 'UINT64'
            ? t.uint64Data
            : t.int32Data;
  const values = field ?? [];
  if (values.length !== n) {
    throw new FormatError(`${at}: dims ${fmtShape(shape)} need ${n} values of ${onnxType}; the file holds ${values.length}`);
  }
  if (onnxType === 'BOOL') return { name, onnxType, shape, data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
  if (onnxType === 'FLOAT16') return { name, onnxType, shape, data: Float32Array.from(values, (v) => halfToNumber(v)) };
  if (onnxType === 'BFLOAT16')
    return { name, onnxType, shape, data: Float32Array.from(values, (v) => new Float32Array(new Uint32Array([v << 16]).buffer)[0]) };
  return { name, onnxType, shape, data: FLOATS.has(onnxType) ? Float32Array.from(values) : Float64Array.from(values, Number) };
}

/** A Strata tensor holding an ONNX tensor's values (integers clamped to int32's range). */
export function toStrata(t: OnnxTensor, where: string): Tensor {
  const dtype = strataDtype(t.onnxType, where);
  if (dtype === 'int32') {
    const v = Int32Array.from(t.data as Float64Array, (x) => Math.max(-2147483648, Math.min(2147483647, x)));
    return tensor(v, t.shape, 'int32');
  }
  if (dtype === 'bool') return tensor(t.data as Uint8Array, t.shape, 'bool');
  return tensor(t.data as Float32Array, t.shape, 'float32');
}
