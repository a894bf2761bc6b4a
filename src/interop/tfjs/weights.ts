// The weights of a tfjs model: each weightsManifest group's shards read as one stream of bytes,
// the tensors laid out in the order the group lists them (a tensor may cross a shard boundary),
// each stored as its dtype or quantized (affine uint8/uint16: value = q * scale + min; float16).
//
// Note [Hostile tfjs weights]: nothing read from model.json is trusted. Every spec is checked
// (name, dims as safe non-negative integers, a known dtype and quantization, at most 2^31
// elements) and the bytes all of a group's specs need are counted before anything is allocated;
// a shortfall names the shard where the data runs out, and a surplus the group, so a shape that
// disagrees with the data is found either way.

import { FormatError } from '../../core/errors.js';
import { halfToNumber } from '../../io/half-floats.js';

/** One tensor a manifest group lists. */
export interface WeightSpec {
  /** The weight's name ('conv1/kernel', sometimes with ':0'). */
  name: string;
  /** Its shape. */
  shape: number[];
  /** Its dtype in memory after decoding. */
  dtype: 'float32' | 'int32' | 'bool';
  /** How it is stored when not as its dtype. */
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number };
}

/** A manifest group's specs and the bytes of its shards, in order, with the names errors use. */
export interface WeightGroup {
  /** The specs as model.json lists them (unchecked). */
  specs: unknown;
  /** The shards in order. */
  shards: { file: string; bytes: Uint8Array }[];
}

/** A decoded weight. */
export interface DecodedWeight {
  /** Its shape. */
  shape: number[];
  /** Its dtype. */
  dtype: 'float32' | 'int32' | 'bool';
  /** Its values. */
  values: Float32Array | Int32Array | Uint8Array;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const excerpt = (v: unknown) => JSON.stringify(v)?.slice(0, 120);
const STORED_BYTES = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 } as const;

/** Checks one spec's fields (not yet its size). */
function checkSpec(file: string, spec: unknown, i: number): WeightSpec {
  const at = `${file}: weight ${i}`;
  if (!isObject(spec) || typeof spec.name !== 'string') throw new FormatError(`${at} must be {name, shape, dtype}; received ${excerpt(spec)}`);
  const where = `${file}: weight '${spec.name}'`;
  const { shape, dtype, quantization: q } = spec;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(`${where}: shape must be a list of non-negative integers; received ${excerpt(shape)}`);
  }
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool')
    throw new FormatError(`${where}: dtype must be float32, int32 or bool; received ${excerpt(dtype)}`);
  if (q !== undefined && q !== null) {
    if (!isObject(q) || (q.dtype !== 'uint8' && q.dtype !== 'uint16' && q.dtype !== 'float16')) {
      throw new FormatError(`${where}: quantization dtype must be uint8, uint16 or float16; received ${excerpt(isObject(q) ? q.dtype : q)}`);
    }
    if (q.dtype !== 'float16' && !(Number.isFinite(q.scale) && Number.isFinite(q.min))) {
      throw new FormatError(
        `${where}: ${q.dtype} quantization needs finite scale and min; received scale ${excerpt(q.scale)}, min ${excerpt(q.min)}`,
      );
    }
    if (q.dtype === 'float16' && dtype !== 'float32')
      throw new FormatError(`${where}: float16 quantization applies to float32 weights; received dtype ${dtype}`);
  }
  return spec as unknown as WeightSpec;
}

/**
 * The bytes a spec occupies, or null for a shape whose element count passes 2^31 (no tfjs tensor
 * holds more; [1e9, 1e9] is refused as absurd rather than compared with the shards).
 */
function storedBytes(spec: WeightSpec): number | null {
  const count = spec.shape.reduce((a, b) => a * b, 1);
  return count > 2 ** 31 ? null : count * STORED_BYTES[spec.quantization?.dtype ?? spec.dtype];
}

function decode(spec: WeightSpec, bytes: Uint8Array, count: number): DecodedWeight['values'] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const q = spec.quantization;
  const out = spec.dtype === 'float32' ? new Float32Array(count) : spec.dtype === 'int32' ? new Int32Array(count) : new Uint8Array(count);
  const round = spec.dtype === 'float32' ? (v: number) => v : Math.round;
  if (q?.dtype === 'uint8') for (let i = 0; i < count; i++) out[i] = round(bytes[i] * q.scale! + q.min!);
  else if (q?.dtype === 'uint16') for (let i = 0; i < count; i++) out[i] = round(view.getUint16(i * 2, true) * q.scale! + q.min!);
  else if (q?.dtype === 'float16') for (let i = 0; i < count; i++) out[i] = halfToNumber(view.getUint16(i * 2, true));
  else if (spec.dtype === 'float32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  else if (spec.dtype === 'int32') for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
  else for (let i = 0; i < count; i++) out[i] = bytes[i] ? 1 : 0;
  return out;
}

/** The shards of a group as one byte array (a tensor may cross a boundary). */
function joined(shards: WeightGroup['shards']): Uint8Array {
  if (shards.length === 1) return shards[0].bytes;
  const out = new Uint8Array(shards.reduce((n, s) => n + s.bytes.length, 0));
  let at = 0;
  for (const s of shards) {
    out.set(s.bytes, at);
    at += s.bytes.length;
  }
  return out;
}

/**
 * Decodes every group's weights, by name. `manifestFile` names model.json (or the artifacts) in
 * errors about the specs; shard errors name the shard.
 * @throws FormatError for a malformed spec, a name listed twice, or shards that hold fewer or more
 *   bytes than the specs need.
 */
export function decodeWeights(manifestFile: string, groups: WeightGroup[]): Map<string, DecodedWeight> {
  const out = new Map<string, DecodedWeight>();
  groups.forEach((group, g) => {
    if (!Array.isArray(group.specs))
      throw new FormatError(`${manifestFile}: weightsManifest[${g}].weights must be a list; received ${excerpt(group.specs)}`);
    const specs = group.specs.map((s, i) => checkSpec(manifestFile, s, i));
    const total = group.shards.reduce((n, s) => n + s.bytes.length, 0);
    const sizes: number[] = [];
    let needed = 0;
    for (const spec of specs) {
      const size = storedBytes(spec);
      if (size === null)
        throw new FormatError(`${manifestFile}: weight '${spec.name}' has the absurd shape [${spec.shape.join(', ')}] (more than 2^31 elements)`);
      if (needed + size > total) {
        const last = group.shards[group.shards.length - 1]?.file ?? manifestFile;
        throw new FormatError(
          `${last}: truncated: weight '${spec.name}' of shape [${spec.shape.join(', ')}] needs bytes ${needed} to ${needed + size}, but the group's ${group.shards.length} shard(s) hold ${total} bytes in all`,
        );
      }
      sizes.push(size);
      needed += size;
    }
    if (needed !== total) {
      throw new FormatError(
        `${manifestFile}: weightsManifest[${g}] lists weights of ${needed} bytes, but its shards (${group.shards.map((s) => s.file).join(', ')}) hold ${total}: a shape disagrees with the data`,
      );
    }
    const bytes = joined(group.shards);
    let at = 0;
    specs.forEach((spec, i) => {
      if (out.has(spec.name)) throw new FormatError(`${manifestFile}: weight '${spec.name}' is listed twice`);
      const count = spec.shape.reduce((a, b) => a * b, 1);
      out.set(spec.name, { shape: spec.shape, dtype: spec.dtype, values: decode(spec, bytes.subarray(at, at + sizes[i]), count) });
      at += sizes[i];
    });
  });
  return out;
}
