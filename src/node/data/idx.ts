// Reader for the IDX format (LeCun's MNIST container): a 4-byte magic number
// (0x00 0x00 <type code> <dimension count>), one big-endian uint32 per dimension, then the
// values in row-major order, big-endian. Files are often shipped gzipped; we recognise gzip by
// its magic bytes (0x1f 0x8b) rather than by the ".gz" name, because both conventions exist in
// the wild (a raw file named .gz, or a gzip stream without the suffix).
//
// Node only: reads files and inflates gzip with node:zlib; decoding is in idx-decode.ts.

import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { constants, gunzip, gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { FormatError, ValueError, fmtShape } from '../../core/errors.js';
import { getReadLimits } from '../../core/limits.js';
import type { Tensor } from '../../tensor/tensor.js';
import { IDX_HEADER_MAX, idxToTensor, readIdxFields } from '../../data/idx-decode.js';

export { idxToTensor, parseIdxHeader, type IdxHeader, type IdxType } from '../../data/idx-decode.js';

const gunzipAsync = promisify(gunzip);

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

/** How far a gzipped file may inflate (Note [Inflating IDX]), or null when it is not gzipped. */
function gzipLimit(raw: Uint8Array, path: string, op: string, maxDecodedBytes: number): { bytes: number; declared: string } | null {
  if (!isGzip(raw)) return null;
  try {
    return inflateLimit(raw, path, op, maxDecodedBytes);
  } catch (err) {
    throw err instanceof FormatError ? err : gzipError(op, path, err);
  }
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
  const limit = gzipLimit(raw, path, op, maxDecodedBytes);
  if (!limit) return raw;
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
  const limit = gzipLimit(raw, path, op, maxDecodedBytes);
  if (!limit) return raw;
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
