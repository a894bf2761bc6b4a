// The IDX format (LeCun's MNIST container): a 4-byte magic number (0x00 0x00 <type code>
// <dimension count>), one big-endian uint32 per dimension, then the values in row-major order,
// big-endian. Decoding bytes is portable (a page fetches the file and decodes it here); reading
// files and inflating gzip is Node's (idx.ts).

import { getBackend } from '../backend/registry.js';
import { FormatError, fmtShape } from '../core/errors.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** Type code (third magic byte) → element type and size in bytes, as the format defines them. */
const IDX_TYPES: ReadonlyMap<number, { type: IdxType; itemSize: number }> = new Map([
  [0x08, { type: 'uint8', itemSize: 1 }],
  [0x09, { type: 'int8', itemSize: 1 }],
  [0x0b, { type: 'int16', itemSize: 2 }],
  [0x0c, { type: 'int32', itemSize: 4 }],
  [0x0d, { type: 'float32', itemSize: 4 }],
  [0x0e, { type: 'float64', itemSize: 8 }],
]);

const MAX_DIMS = 8;
/** The longest header: the magic number and eight dimensions. */
export const IDX_HEADER_MAX = 4 + 4 * MAX_DIMS;

/** What the header says: the element type, the shape, and where the values start. */
export interface IdxHeader {
  type: IdxType;
  itemSize: number;
  shape: number[];
  /** Byte offset of the first value (4 + 4 × rank). */
  dataOffset: number;
}

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/** The header's fields, and the element count as a bigint: up to eight uint32 factors. */
export interface IdxFields extends IdxHeader {
  elements: bigint;
}

/**
 * Reads the header's fields from the first bytes of an IDX stream, refusing an element count
 * past 2^53: such a count has no exact double, so the comparison with the bytes present, and
 * every loop and index over the values, would be off.
 */
export function readIdxFields(bytes: Uint8Array, path: string, op: string): IdxFields {
  if (bytes.length < 4) {
    throw new FormatError(`${op}: '${path}' is too short for an IDX header: expected at least 4 bytes; received ${bytes.length}`);
  }
  const typeInfo = IDX_TYPES.get(bytes[2]);
  if (bytes[0] !== 0 || bytes[1] !== 0 || typeInfo === undefined) {
    const known = [...IDX_TYPES.keys()].map(hex).join(', ');
    const received = [...bytes.subarray(0, 4)].map(hex).join(' ');
    throw new FormatError(
      `${op}: '${path}' has a bad IDX magic number: expected 0x00 0x00 <type> <rank> with type one of ${known}; received ${received}`,
    );
  }
  const rank = bytes[3];
  if (rank === 0 || rank > MAX_DIMS) {
    throw new FormatError(`${op}: '${path}' declares ${rank} dimensions: expected 1 to ${MAX_DIMS}; received ${rank}`);
  }
  const dataOffset = 4 + 4 * rank;
  if (bytes.length < dataOffset) {
    throw new FormatError(
      `${op}: '${path}' is too short for an IDX header of rank ${rank}: expected at least ${dataOffset} bytes; received ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const elements = shape.reduce((a, d) => a * BigInt(d), 1n);
  if (elements > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError(
      `${op}: '${path}' declares shape ${fmtShape(shape)} of ${typeInfo.type}, ${elements} elements: more than 2^53 - 1, the most that can be counted exactly`,
    );
  }
  return { type: typeInfo.type, itemSize: typeInfo.itemSize, shape, dataOffset, elements };
}

/**
 * Parses and validates the header of decompressed IDX bytes, including that the data length is
 * exactly product(shape) × itemSize, so callers may index the values without further checks.
 */
export function parseIdxHeader(bytes: Uint8Array, path: string, op = 'readIdx'): IdxHeader {
  const { type, itemSize, shape, dataOffset, elements } = readIdxFields(bytes, path, op);
  const expected = elements * BigInt(itemSize);
  const received = BigInt(bytes.length - dataOffset);
  if (received !== expected) {
    const problem = received < expected ? 'is truncated' : 'has trailing data';
    throw new FormatError(`${op}: '${path}' ${problem}: shape ${fmtShape(shape)} of ${type} needs ${expected} data bytes; received ${received}`);
  }
  return { type, itemSize, shape, dataOffset };
}

/**
 * Decodes validated IDX bytes into a tensor: integer types become int32, float32 stays float32,
 * float64 stays float64 where the current backend stores it and becomes float32 otherwise.
 */
export function idxToTensor(bytes: Uint8Array, path: string, op = 'readIdx'): Tensor {
  const { type, shape, dataOffset } = parseIdxHeader(bytes, path, op);
  const n = shape.reduce((a, b) => a * b, 1);
  const body = bytes.subarray(dataOffset);
  // Multi-byte values are big-endian, so they go through a DataView (which byte-swaps on
  // little-endian hosts); byte-sized ones convert with one typed-array constructor.
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  switch (type) {
    case 'uint8':
      return tensor(new Int32Array(body), shape, 'int32');
    case 'int8':
      return tensor(new Int32Array(new Int8Array(body.buffer, body.byteOffset, n)), shape, 'int32');
    case 'int16': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, false);
      return tensor(out, shape, 'int32');
    }
    case 'int32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, false);
      return tensor(out, shape, 'int32');
    }
    case 'float32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, false);
      return tensor(out, shape, 'float32');
    }
    case 'float64': {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, false);
      const dtype = getBackend().supportsDtype('float64') ? 'float64' : 'float32';
      return tensor(out, shape, dtype);
    }
  }
}
