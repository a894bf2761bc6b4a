// Reader for the IDX format (LeCun's MNIST container): a 4-byte magic number
// (0x00 0x00 <type code> <dimension count>), one big-endian uint32 per dimension, then the
// values in row-major order, big-endian. Files are often shipped gzipped; we recognise gzip by
// its magic bytes (0x1f 0x8b) rather than by the ".gz" name, because both conventions exist in
// the wild (a raw file named .gz, or a gzip stream without the suffix).

import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { gunzip, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { getBackend } from '../backend/registry.js';
import { FormatError, ValueError, fmtShape } from '../core/errors.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

const gunzipAsync = promisify(gunzip);

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

/** What the header says: the element type, the shape, and where the values start. */
export interface IdxHeader {
  type: IdxType;
  itemSize: number;
  shape: number[];
  /** Byte offset of the first value (4 + 4 × rank). */
  dataOffset: number;
}

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/**
 * Parses and validates the header of decompressed IDX bytes, including that the data length is
 * exactly product(shape) × itemSize, so callers may index the values without further checks.
 */
export function parseIdxHeader(bytes: Uint8Array, path: string, op = 'readIdx'): IdxHeader {
  if (bytes.length < 4) {
    throw new FormatError(`${op}: '${path}' is too short for an IDX header: expected at least 4 bytes; received ${bytes.length}`);
  }
  const typeInfo = IDX_TYPES.get(bytes[2]);
  if (bytes[0] !== 0 || bytes[1] !== 0 || typeInfo === undefined) {
    const known = [...IDX_TYPES.keys()].map(hex).join(', ');
    const received = [...bytes.subarray(0, 4)].map(hex).join(' ');
    throw new FormatError(`${op}: '${path}' has a bad IDX magic number: expected 0x00 0x00 <type> <rank> with type one of ${known}; received ${received}`);
  }
  const rank = bytes[3];
  if (rank === 0 || rank > MAX_DIMS) {
    throw new FormatError(`${op}: '${path}' declares ${rank} dimensions: expected 1 to ${MAX_DIMS}; received ${rank}`);
  }
  const dataOffset = 4 + 4 * rank;
  if (bytes.length < dataOffset) {
    throw new FormatError(`${op}: '${path}' is too short for an IDX header of rank ${rank}: expected at least ${dataOffset} bytes; received ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) shape.push(view.getUint32(4 + 4 * d, false));
  // A product of up to eight uint32 values can exceed 2^53; any such file is truncated anyway,
  // and the comparison below still says so (the expected count is then merely approximate).
  const expected = shape.reduce((a, b) => a * b, 1) * typeInfo.itemSize;
  const received = bytes.length - dataOffset;
  if (received !== expected) {
    const problem = received < expected ? 'is truncated' : 'has trailing data';
    throw new FormatError(`${op}: '${path}' ${problem}: shape ${fmtShape(shape)} of ${typeInfo.type} needs ${expected} data bytes; received ${received}`);
  }
  return { type: typeInfo.type, itemSize: typeInfo.itemSize, shape, dataOffset };
}

const isGzip = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

function readError(op: string, path: string, err: unknown): ValueError {
  const reason = err instanceof Error ? err.message : String(err);
  return new ValueError(`${op}: cannot read '${path}': ${reason}`);
}

function gzipError(op: string, path: string, err: unknown): FormatError {
  const reason = err instanceof Error ? err.message : String(err);
  return new FormatError(`${op}: '${path}' is a corrupt gzip stream: ${reason}`);
}

/** The file's bytes, gunzipped when they start with the gzip magic. */
export async function readMaybeGzip(path: string, op = 'readIdx'): Promise<Uint8Array> {
  checkPath(op, path);
  let raw: Uint8Array;
  try {
    raw = await readFile(path);
  } catch (err) {
    throw readError(op, path, err);
  }
  if (!isGzip(raw)) return raw;
  try {
    return await gunzipAsync(raw);
  } catch (err) {
    throw gzipError(op, path, err);
  }
}

export function readMaybeGzipSync(path: string, op = 'readIdx'): Uint8Array {
  checkPath(op, path);
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw readError(op, path, err);
  }
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw);
  } catch (err) {
    throw gzipError(op, path, err);
  }
}

function checkPath(op: string, path: unknown): void {
  if (typeof path !== 'string' || path === '') {
    throw new ValueError(`${op}: path must be a non-empty string; received ${JSON.stringify(path)}`);
  }
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

/**
 * Reads an IDX file (raw or gzip, detected by the gzip magic bytes). uint8, int8, int16 and
 * int32 data → int32 tensor; float32 → float32; float64 → float64 on backends that store it,
 * float32 otherwise. Any malformed file is a FormatError naming the file.
 */
export async function readIdx(path: string): Promise<Tensor> {
  return idxToTensor(await readMaybeGzip(path, 'readIdx'), path, 'readIdx');
}

/** The synchronous form of `readIdx`. */
export function readIdxSync(path: string): Tensor {
  return idxToTensor(readMaybeGzipSync(path, 'readIdxSync'), path, 'readIdxSync');
}
