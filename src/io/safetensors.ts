// The safetensors format (Hugging Face's), read and written without dependencies:
//
//   8 bytes   N, the header length, unsigned 64-bit little-endian
//   N bytes   UTF-8 JSON: {"<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]},
//             ..., "__metadata__": {"<key>": "<string>"}}, optionally padded with spaces
//   the rest  the data section: each tensor's row-major little-endian bytes at [begin, end),
//             offsets counted from the start of the data section
//
// We write tensors in the order given, back to back, and pad the header with spaces so the data
// section starts 8-byte aligned. We read any valid file (unpadded headers, any tensor order).
//
// Note [Safetensors validation]
// A file is untrusted input: decoding only parses JSON (nothing is evaluated) and checks every
// field before touching the data section. Each entry needs a string dtype, a shape of
// non-negative integers and two offsets whose span is exactly product(shape) * itemsize; all
// spans together must cover the data section exactly (no overlaps, no gaps, no trailing bytes),
// as the format requires, so a truncated or spliced file is caught rather than half-loaded.
// Every failure is a FormatError whose message starts with the file name.
import { getBackend } from '../backend/registry.js';
import { bytesPerElement, type DType, type TypedArray } from '../core/dtype.js';
import { checkJsonDepth } from './bounded-json.js';
import { FormatError, StrataError, ValueError, fmtShape } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { tensor as makeTensor } from '../tensor/create.js';
import { widenHalfFloats } from './half-floats.js';
import { Tensor } from '../tensor/tensor.js';

export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

/** Choices a caller of decodeSafetensors may make beyond the defaults. */
export interface DecodeOptions {
  /** Entries to check but not load (PyTorch's int64 `num_batches_tracked`, which no Strata weight takes). */
  skip?: (name: string, dtype: string) => boolean;
  /** Widen F16 and BF16 entries to float32 (exact), instead of refusing them. */
  widenHalf?: boolean;
}

export interface DecodedSafetensors {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
  /** Tensor names in data-offset order (the order they were written in). */
  order: string[];
}

/** Headers above this are corrupt files, not real models (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = '__metadata__';

const WRITE_DTYPE: Readonly<Record<DType, string>> = { float32: 'F32', int32: 'I32', bool: 'BOOL', float64: 'F64' };

/**
 * Bytes per element of the byte-sized dtypes the format defines. Sizes are checked for all of
 * them, so a file is reported as corrupt before it is reported as holding a dtype we refuse.
 * A Map, not an object literal: a dtype read from the file must not find "toString" and friends.
 */
const ITEM_SIZE: ReadonlyMap<string, number> = new Map([
  ['BOOL', 1],
  ['U8', 1],
  ['I8', 1],
  ['F8_E5M2', 1],
  ['F8_E4M3', 1],
  ['F8_E8M0', 1],
  ['U16', 2],
  ['I16', 2],
  ['F16', 2],
  ['BF16', 2],
  ['U32', 4],
  ['I32', 4],
  ['F32', 4],
  ['U64', 8],
  ['I64', 8],
  ['F64', 8],
]);

/** The dtypes Strata loads; the rest of ITEM_SIZE would lose range or precision silently. */
const READABLE = ['F32', 'F64', 'I32', 'BOOL', 'U8', 'I8', 'U16', 'I16'];

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Tensor data is copied as raw bytes, which is the file's byte order only on little-endian hosts. */
function assertLittleEndianHost(op: string): void {
  if (!LITTLE_ENDIAN_HOST) throw new StrataError(`${op}: safetensors files are little-endian; big-endian hosts are not supported`);
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** What a JSON value is, for "received ..." in error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array ${truncate(jsonOrString(value))}`;
  if (typeof value === 'object') return value.constructor === Object || value.constructor === undefined ? 'an object' : `a ${value.constructor.name}`;
  return `${typeof value} ${truncate(jsonOrString(value))}`;
}

/** JSON text where possible; arguments (not file contents) may be BigInts or cyclic. */
function jsonOrString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

// ---------------------------------------------------------------------------------------------
// Encoding

function checkMetadataArgument(metadata: unknown): Record<string, string> {
  const plain = isObject(metadata) && [Object.prototype, null].includes(Object.getPrototypeOf(metadata));
  if (!plain) throw new ValueError(`encodeSafetensors: metadata must be an object of strings; received ${describe(metadata)}`);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') {
      throw new ValueError(`encodeSafetensors: metadata values must be strings; received ${describe(value)} for key ${JSON.stringify(key)}`);
    }
  }
  return Object.fromEntries(Object.entries(metadata)) as Record<string, string>;
}

function checkNamedTensors(tensors: readonly NamedTensor[]): void {
  if (!Array.isArray(tensors)) throw new ValueError(`encodeSafetensors: expected an array of {name, tensor}; received ${describe(tensors)}`);
  const seen = new Set<string>();
  tensors.forEach((item: unknown, i) => {
    if (!isObject(item)) throw new ValueError(`encodeSafetensors: entry ${i} must be {name, tensor}; received ${describe(item)}`);
    const { name, tensor } = item;
    if (typeof name !== 'string' || name === '') {
      throw new ValueError(`encodeSafetensors: entry ${i}: name must be a non-empty string; received ${describe(name)}`);
    }
    if (name === METADATA_KEY) throw new ValueError(`encodeSafetensors: entry ${i}: the name "${METADATA_KEY}" is reserved for metadata`);
    if (seen.has(name)) throw new ValueError(`encodeSafetensors: duplicate tensor name ${JSON.stringify(name)} (entry ${i}); names must be unique`);
    seen.add(name);
    if (!(tensor instanceof Tensor))
      throw new ValueError(`encodeSafetensors: entry ${i} (${JSON.stringify(name)}): tensor must be a Tensor; received ${describe(tensor)}`);
  });
}

/**
 * The bytes of a safetensors file holding `tensors` in the order given (float32 → F32,
 * int32 → I32, bool → BOOL, float64 → F64) and, when given, `metadata` as `__metadata__`.
 * Throws ValueError for empty, reserved ("__metadata__") or duplicate names.
 */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata?: Record<string, string>): Uint8Array {
  return encodeWith(tensors, metadata, (t) => t.dataSync());
}

/**
 * encodeSafetensors for tensors that may live where values are read asynchronously (the webgpu
 * backend): such tensors are read first with `await t.data()`, the others as encodeSafetensors
 * reads them, one at a time.
 */
export async function encodeSafetensorsAsync(tensors: readonly NamedTensor[], metadata?: Record<string, string>): Promise<Uint8Array> {
  const read = new Map<Tensor, TypedArray>();
  for (const { tensor } of tensors) {
    if (tensor.backend.readSync === false && !read.has(tensor)) read.set(tensor, await tensor.data());
  }
  return encodeWith(tensors, metadata, (t) => read.get(t) ?? t.dataSync());
}

function encodeWith(tensors: readonly NamedTensor[], metadata: Record<string, string> | undefined, valuesOf: (t: Tensor) => TypedArray): Uint8Array {
  assertLittleEndianHost('encodeSafetensors');
  checkNamedTensors(tensors);
  const fields: string[] = [];
  let dataLength = 0;
  for (const { name, tensor } of tensors) {
    const byteLength = tensor.size * bytesPerElement(tensor.dtype);
    const info = { dtype: WRITE_DTYPE[tensor.dtype], shape: [...tensor.shape], data_offsets: [dataLength, dataLength + byteLength] };
    // Built by hand rather than JSON.stringify of one object: JS objects list integer-like keys
    // ("0", "1") first, which would break the promised order.
    fields.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    dataLength += byteLength;
  }
  if (metadata !== undefined) fields.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(checkMetadataArgument(metadata))}`);

  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  const headerLength = Math.ceil(json.byteLength / 8) * 8; // 8 + headerLength is then a multiple of 8
  if (headerLength > MAX_HEADER_BYTES) {
    throw new ValueError(
      `encodeSafetensors: the header would take ${headerLength} bytes, more than readers accept (${MAX_HEADER_BYTES}); received ${tensors.length} tensors`,
    );
  }
  const out = new Uint8Array(8 + headerLength + dataLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLength);
  // One tensor downloaded at a time, so peak memory is the file plus the largest tensor.
  let at = 8 + headerLength;
  for (const { tensor } of tensors) {
    const values = valuesOf(tensor);
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
    at += values.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

function checkEntry(file: string, name: string, value: unknown): Entry {
  const where = `${file}: tensor ${JSON.stringify(name)}`;
  if (!isObject(value)) throw new FormatError(`${where}: expected an object {dtype, shape, data_offsets}; received ${describe(value)}`);
  for (const key of ['dtype', 'shape', 'data_offsets']) {
    if (!Object.hasOwn(value, key)) throw new FormatError(`${where}: missing "${key}"; received keys ${JSON.stringify(Object.keys(value))}`);
  }
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw new FormatError(`${where}: dtype must be a string; received ${describe(dtype)}`);
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new FormatError(`${where}: shape must be an array of non-negative integers; received ${describe(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    throw new FormatError(`${where}: data_offsets must be [begin, end] with integers 0 <= begin <= end; received ${describe(offsets)}`);
  }
  const itemSize = ITEM_SIZE.get(dtype);
  if (itemSize === undefined) {
    throw new FormatError(`${where}: unknown dtype ${JSON.stringify(dtype)}; expected one of ${[...ITEM_SIZE.keys()].join(', ')}`);
  }
  const [begin, end] = offsets as [number, number];
  const needed = sizeOf(shape) * itemSize;
  if (end - begin !== needed) {
    throw new FormatError(
      `${where}: dtype ${dtype} and shape ${fmtShape(shape)} need ${needed} bytes, but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape.slice(), begin, end };
}

function checkMetadata(file: string, value: unknown): Record<string, string> {
  if (!isObject(value)) throw new FormatError(`${file}: "${METADATA_KEY}" must be an object mapping strings to strings; received ${describe(value)}`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new FormatError(`${file}: "${METADATA_KEY}" must map strings to strings; received ${describe(v)} for key ${JSON.stringify(key)}`);
    }
  }
  // fromEntries defines properties, so a key such as "__proto__" stays plain data.
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

/** The header's entries and metadata, and where the data section starts. */
function parseHeader(bytes: Uint8Array, file: string): { entries: Entry[]; metadata: Record<string, string>; dataStart: number } {
  if (bytes.byteLength < 8) {
    throw new FormatError(
      `${file}: expected at least 8 bytes (the header length); received a file of ${bytes.byteLength} bytes (file truncated or empty)`,
    );
  }
  const declared = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw new FormatError(
      `${file}: header length must be at most ${MAX_HEADER_BYTES} bytes; received ${declared} (corrupt file, or not a safetensors file)`,
    );
  }
  const headerLength = Number(declared);
  if (8 + headerLength > bytes.byteLength) {
    throw new FormatError(
      `${file}: header length is ${headerLength} bytes, but only ${bytes.byteLength - 8} bytes follow the length field (file truncated)`,
    );
  }
  checkJsonDepth(bytes.subarray(8, 8 + headerLength), file, 'header ');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new FormatError(`${file}: header must be UTF-8 JSON; received ${headerLength} bytes that are not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new FormatError(`${file}: header is not valid JSON (${(error as Error).message}); received ${JSON.stringify(truncate(text.trimEnd()))}`);
  }
  if (!isObject(header)) throw new FormatError(`${file}: header must be a JSON object; received ${describe(header)}`);

  const entries: Entry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = checkMetadata(file, value);
    else if (name === '') throw new FormatError(`${file}: tensor names must be non-empty; received an entry named ""`);
    else entries.push(checkEntry(file, name, value));
  }
  return { entries, metadata, dataStart: 8 + headerLength };
}

/** Sorts entries by offset and checks they tile the data section exactly (Note [Safetensors validation]). */
function checkCoverage(file: string, entries: Entry[], dataLength: number): Entry[] {
  const sorted = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  const last = sorted.reduce<Entry | undefined>((far, e) => (far === undefined || e.end > far.end ? e : far), undefined);
  if (last !== undefined && last.end > dataLength) {
    throw new FormatError(
      `${file}: tensor ${JSON.stringify(last.name)} ends at byte ${last.end} of the data section, but the file holds only ${dataLength} data bytes (file truncated)`,
    );
  }
  let cursor = 0;
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.begin < cursor) {
      const p = previous!;
      throw new FormatError(
        `${file}: tensors ${JSON.stringify(p.name)} (bytes [${p.begin}, ${p.end})) and ${JSON.stringify(e.name)} (bytes [${e.begin}, ${e.end})) overlap; expected each tensor to start where the previous one ends`,
      );
    }
    if (e.begin > cursor) {
      throw new FormatError(
        `${file}: bytes [${cursor}, ${e.begin}) of the data section belong to no tensor (gap before ${JSON.stringify(e.name)}); expected the tensors to cover the data section without gaps`,
      );
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLength) {
    throw new FormatError(`${file}: the data section holds ${dataLength} bytes but the tensors cover only ${cursor}; expected no trailing bytes`);
  }
  return sorted;
}

/**
 * Bytes [begin, end) of `bytes` positioned so a typed array of `itemSize` can view them: a
 * subarray when the offset is already aligned, else a copy into a fresh (aligned) buffer.
 * Either way the view is only read; makeTensor copies it into the backend's own storage.
 */
function alignedBytes(bytes: Uint8Array, begin: number, end: number, itemSize: number): Uint8Array {
  const chunk = bytes.subarray(begin, end);
  if (chunk.byteOffset % itemSize === 0) return chunk;
  // Not chunk.slice(): on a Buffer (what readFile returns) slice is a view, not a copy.
  const copy = new Uint8Array(chunk.byteLength);
  copy.set(chunk);
  return copy;
}

/**
 * The values of one entry as a Strata dtype. F64 becomes float64 where the current backend
 * stores float64 (reference) and is rounded to float32 elsewhere (native), since a model trained
 * in float64 should still load for inference on the default backend. U8, I8, U16 and I16 widen
 * to int32 exactly. F16 and BF16 widen exactly to float32 when the caller asks (widenHalf: PyTorch
 * state dicts). Other dtypes (I64, U32, ...) are refused: Strata has no matching dtype and a
 * silent conversion could lose range or precision.
 */
function readValues(file: string, e: Entry, chunk: Uint8Array, float64Ok: boolean, widenHalf: boolean): { values: TypedArray; dtype: DType } {
  const { buffer, byteOffset, byteLength } = chunk;
  if (widenHalf && (e.dtype === 'F16' || e.dtype === 'BF16')) return { values: widenHalfFloats(chunk, e.dtype), dtype: 'float32' };
  switch (e.dtype) {
    case 'F32':
      return { values: new Float32Array(buffer, byteOffset, byteLength / 4), dtype: 'float32' };
    case 'I32':
      return { values: new Int32Array(buffer, byteOffset, byteLength / 4), dtype: 'int32' };
    case 'BOOL':
      return { values: chunk, dtype: 'bool' }; // makeTensor maps any non-zero byte to 1
    case 'F64': {
      const values = new Float64Array(buffer, byteOffset, byteLength / 8);
      return float64Ok ? { values, dtype: 'float64' } : { values: Float32Array.from(values), dtype: 'float32' };
    }
    case 'U8':
      return { values: Int32Array.from(chunk), dtype: 'int32' };
    case 'I8':
      return { values: Int32Array.from(new Int8Array(buffer, byteOffset, byteLength)), dtype: 'int32' };
    case 'U16':
      return { values: Int32Array.from(new Uint16Array(buffer, byteOffset, byteLength / 2)), dtype: 'int32' };
    case 'I16':
      return { values: Int32Array.from(new Int16Array(buffer, byteOffset, byteLength / 2)), dtype: 'int32' };
    default:
      throw unreadableDtype(file, e);
  }
}

function unreadableDtype(file: string, e: Entry): FormatError {
  return new FormatError(
    `${file}: tensor ${JSON.stringify(e.name)} has dtype ${e.dtype}, which Strata cannot load; expected one of ${READABLE.join(', ')}`,
  );
}

/**
 * Parses a safetensors file held in memory into fresh tensors on the current backend (see
 * readValues for dtype conversions). `file` names the source in error messages. Throws
 * FormatError for anything malformed (Note [Safetensors validation]). `expected` names tensors
 * the caller needs: one the header lacks is reported by name, before the data section's layout
 * (whose gap it would otherwise show up as). `options.skip` leaves entries out after the whole
 * file is checked (they are neither loaded nor in `order`).
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  file: string,
  expected: { names: readonly string[]; by: string } | null = null,
  options: DecodeOptions = {},
): DecodedSafetensors {
  assertLittleEndianHost('decodeSafetensors');
  if (!(bytes instanceof Uint8Array)) throw new ValueError(`decodeSafetensors: bytes must be a Uint8Array; received ${describe(bytes)}`);
  const { entries, metadata, dataStart } = parseHeader(bytes, file);
  if (expected) {
    const present = new Set(entries.map((e) => e.name));
    const missing = expected.names.filter((n) => !present.has(n));
    if (missing.length) {
      const listed =
        missing
          .slice(0, 5)
          .map((n) => `'${n}'`)
          .join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
      throw new FormatError(`${file}: missing ${missing.length === 1 ? 'tensor' : `${missing.length} tensors`} ${listed} (needed by ${expected.by})`);
    }
  }
  const skip = options.skip ?? (() => false);
  const widenHalf = options.widenHalf === true;
  const sorted = checkCoverage(file, entries, bytes.byteLength - dataStart).filter((e) => !skip(e.name, e.dtype));
  // Refuse unloadable dtypes before creating any tensor.
  const readable = (dtype: string) => READABLE.includes(dtype) || (widenHalf && (dtype === 'F16' || dtype === 'BF16'));
  const refused = sorted.find((e) => !readable(e.dtype));
  if (refused !== undefined) throw unreadableDtype(file, refused);
  const data = bytes.subarray(dataStart);
  const float64Ok = getBackend().supportsDtype('float64');
  const tensors = new Map<string, Tensor>();
  for (const e of sorted) {
    const chunk = alignedBytes(data, e.begin, e.end, ITEM_SIZE.get(e.dtype)!);
    const { values, dtype } = readValues(file, e, chunk, float64Ok, widenHalf);
    tensors.set(e.name, makeTensor(values, e.shape, dtype));
  }
  return { tensors, metadata, order: sorted.map((e) => e.name) };
}
