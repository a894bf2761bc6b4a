// Reader for the IDX format (LeCun's MNIST container): a 4-byte magic number
// (0x00 0x00 <type code> <dimension count>), one big-endian uint32 per dimension, then the
// values in row-major order, big-endian. Files are often shipped gzipped; we recognise gzip by
// its magic bytes (0x1f 0x8b) rather than by the ".gz" name, because both conventions exist in
// the wild (a raw file named .gz, or a gzip stream without the suffix).

import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { constants, gunzip, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { getBackend } from '../backend/registry.js';
import { FormatError, ValueError, fmtShape } from '../core/errors.js';
import { getReadLimits } from '../core/limits.js';
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

/** The header's fields, and the element count as a bigint: up to eight uint32 factors. */
interface IdxFields extends IdxHeader {
  elements: bigint;
}

/**
 * Reads the header's fields from the first bytes of an IDX stream, refusing an element count
 * past 2^53: such a count has no exact double, so the comparison with the bytes present, and
 * every loop and index over the values, would be off.
 */
function readIdxFields(bytes: Uint8Array, path: string, op: string): IdxFields {
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

const isGzip = (bytes: Uint8Array) => bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;

function readError(op: string, path: string, err: unknown): ValueError {
  const reason = err instanceof Error ? err.message : String(err);
  return new ValueError(`${op}: cannot read '${path}': ${reason}`);
}

function gzipError(op: string, path: string, err: unknown): FormatError {
  const reason = err instanceof Error ? err.message : String(err);
  return new FormatError(`${op}: '${path}' is a corrupt gzip stream: ${reason}`);
}

// zlib's refusal when the output would pass maxOutputLength.
const isTooLarge = (err: unknown) => err instanceof RangeError || (err as NodeJS.ErrnoException | null)?.code === 'ERR_BUFFER_TOO_LARGE';

// Note [Inflating IDX]
// A gzip stream expands up to ~1000x, so a 300 KB .gz can honestly hold 300 MB, and the uint8
// values then become a four times larger int32 (or float32) tensor. So the header is inflated
// first, on its own, and the whole file is inflated only when what the header declares fits
// under maxDecodedBytes, counting the inflated bytes and the tensor they become (both are alive
// together at the end, and the backend's copy of the tensor too), and never past what the header
// declares: zlib's maxOutputLength stops it there, whatever the stream holds after. That is 9
// bytes per uint8 element at the peak, so the default ceiling refuses Fashion-MNIST's own 47 MB
// training images; st.data.fashionMnist() knows those files' sizes and allows them (mnist.ts).
//
// zlib has no synchronous streaming API, so the header is read by inflating growing prefixes of
// the file with Z_SYNC_FLUSH (which returns what a cut stream inflates to, where Z_FINISH would
// fail), each probe capped at HEAD_PROBE_BYTES of output. When a doubled prefix overshoots the
// cap, a binary search between it and the last prefix that gave too little finds one whose
// output lies between the header's size and the cap; one exists, since a deflate byte inflates
// to at most ~1 KB, far less than the cap.

const IDX_HEADER_MAX = 4 + 4 * MAX_DIMS;
const HEAD_PROBE_BYTES = 64 * 1024;

/** The first bytes the gzip stream inflates to: at least IDX_HEADER_MAX, or all of them if it holds fewer. */
function gunzipHead(raw: Uint8Array): Uint8Array {
  const probe = (n: number): Uint8Array | null => {
    try {
      return gunzipSync(raw.subarray(0, n), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: HEAD_PROBE_BYTES });
    } catch (err) {
      if (isTooLarge(err)) return null;
      throw err;
    }
  };
  let short = 0; // a prefix known to inflate to fewer than IDX_HEADER_MAX bytes
  let n = Math.min(256, raw.length);
  for (;;) {
    const out = probe(n);
    if (out === null) break;
    if (out.length >= IDX_HEADER_MAX || n === raw.length) return out;
    short = n;
    n = Math.min(2 * n, raw.length);
  }
  let long = n; // a prefix known to inflate past HEAD_PROBE_BYTES
  while (long - short > 1) {
    const mid = short + Math.floor((long - short) / 2);
    const out = probe(mid);
    if (out === null) long = mid;
    else if (out.length >= IDX_HEADER_MAX) return out;
    else short = mid;
  }
  throw new Error(`one byte at offset ${short} inflates to more than ${HEAD_PROBE_BYTES} bytes`);
}

/** How many bytes the file may inflate to, from its header, and why (for the error past it). */
function inflateLimit(raw: Uint8Array, path: string, op: string, limit: number): { bytes: number; declared: string } {
  const head = gunzipHead(raw);
  if (head.length < IDX_HEADER_MAX) {
    // The whole stream is shorter than the longest header; parseIdxHeader will say what is wrong.
    return { bytes: IDX_HEADER_MAX, declared: `the ${IDX_HEADER_MAX} bytes of the longest IDX header` };
  }
  const { type, itemSize, shape, dataOffset, elements } = readIdxFields(head, path, op);
  const inflated = BigInt(dataOffset) + elements * BigInt(itemSize);
  // idxToTensor's output: int32 for the integer types, float32 or float64 for the float ones.
  const tensor = elements * (itemSize === 8 ? 8n : 4n);
  // The tensor's array and the backend's copy of it are alive together with the inflated bytes.
  const peak = inflated + 2n * tensor;
  if (peak > BigInt(limit)) {
    throw new FormatError(
      `${op}: '${path}' declares shape ${fmtShape(shape)} of ${type}: ${inflated} bytes to inflate and a ${tensor}-byte tensor held twice (its array and the backend's copy), ` +
        `${peak} bytes in all, more than the limit of ${limit} bytes on what a compressed file may decode to (maxDecodedBytes); ` +
        `if the file is trusted, raise it with st.setReadLimits({ maxDecodedBytes: n })`,
    );
  }
  if (inflated > BigInt(bufferConstants.MAX_LENGTH)) {
    throw new FormatError(
      `${op}: '${path}' declares shape ${fmtShape(shape)} of ${type}, ${inflated} bytes once inflated: more than the largest Buffer, ${bufferConstants.MAX_LENGTH} bytes`,
    );
  }
  return { bytes: Number(inflated), declared: `the ${inflated} bytes its header declares (shape ${fmtShape(shape)} of ${type})` };
}

function inflateError(op: string, path: string, err: unknown, declared: string): FormatError {
  if (isTooLarge(err)) return new FormatError(`${op}: '${path}' inflates past ${declared}: the gzip stream holds trailing data`);
  return gzipError(op, path, err);
}

/**
 * The file's bytes, gunzipped when they start with the gzip magic (Note [Inflating IDX]).
 * `maxDecodedBytes` replaces the ceiling for callers that know how large their files are.
 */
export async function readMaybeGzip(path: string, op = 'readIdx', maxDecodedBytes = getReadLimits().maxDecodedBytes): Promise<Uint8Array> {
  checkPath(op, path);
  let raw: Uint8Array;
  try {
    raw = await readFile(path);
  } catch (err) {
    throw readError(op, path, err);
  }
  if (!isGzip(raw)) return raw;
  let limit: { bytes: number; declared: string };
  try {
    limit = inflateLimit(raw, path, op, maxDecodedBytes);
  } catch (err) {
    throw err instanceof FormatError ? err : gzipError(op, path, err);
  }
  try {
    return await gunzipAsync(raw, { maxOutputLength: limit.bytes });
  } catch (err) {
    throw inflateError(op, path, err, limit.declared);
  }
}

export function readMaybeGzipSync(path: string, op = 'readIdx', maxDecodedBytes = getReadLimits().maxDecodedBytes): Uint8Array {
  checkPath(op, path);
  let raw: Uint8Array;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw readError(op, path, err);
  }
  if (!isGzip(raw)) return raw;
  let limit: { bytes: number; declared: string };
  try {
    limit = inflateLimit(raw, path, op, maxDecodedBytes);
  } catch (err) {
    throw err instanceof FormatError ? err : gzipError(op, path, err);
  }
  try {
    return gunzipSync(raw, { maxOutputLength: limit.bytes });
  } catch (err) {
    throw inflateError(op, path, err, limit.declared);
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
