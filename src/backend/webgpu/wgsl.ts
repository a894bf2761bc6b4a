import type { DType } from '../../core/dtype.js';

// WGSL text shared by the kernels. Storage is 32-bit for every dtype: float32 as f32, int32 and
// bool as i32 (bool 0 or 1), so one array type per dtype and no byte packing in shaders.

/** Threads per workgroup of the one-thread-per-element kernels. */
export const WORKGROUP = 256;
const MAX_GROUPS_X = 65535;

/** The WGSL element type a dtype is stored as. */
export function storageType(dtype: DType): 'f32' | 'i32' {
  return dtype === 'float32' ? 'f32' : 'i32';
}

/** The WGSL type a value of `dtype` is computed in. */
export function valueType(dtype: DType): 'f32' | 'i32' | 'bool' {
  return dtype === 'float32' ? 'f32' : dtype === 'int32' ? 'i32' : 'bool';
}

/** Binding declarations: inputs read-only from 0, then outputs read-write (GpuQueue's layout). */
export function bindings(inputs: readonly DType[], outputs: readonly DType[], names?: readonly string[]): string {
  const lines: string[] = [];
  inputs.forEach((d, i) => lines.push(`@group(0) @binding(${i}) var<storage, read> ${names?.[i] ?? `in${i}`}: array<${storageType(d)}>;`));
  outputs.forEach((d, j) =>
    lines.push(
      `@group(0) @binding(${inputs.length + j}) var<storage, read_write> ${names?.[inputs.length + j] ?? (outputs.length === 1 ? 'out' : `out${j}`)}: array<${storageType(d)}>;`,
    ),
  );
  return lines.join('\n');
}

/** Workgroups for `threads` threads of `perGroup` each, spread over y when x would pass the limit. */
export function grid(threads: number, perGroup = WORKGROUP): [number, number, number] {
  const groups = Math.ceil(threads / perGroup);
  if (groups <= MAX_GROUPS_X) return [groups, 1, 1];
  return [MAX_GROUPS_X, Math.ceil(groups / MAX_GROUPS_X), 1];
}

/**
 * The entry point of a one-thread-per-element kernel: `i` is the thread's element, and threads
 * past `threads` return at once.
 */
export function elementMain(threads: number, perGroup = WORKGROUP): string {
  return `@compute @workgroup_size(${perGroup})
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let i = (wg.y * nwg.x + wg.x) * ${perGroup}u + li;
  if (i >= ${threads}u) { return; }`;
}

/** A WGSL literal of `value` as `dtype` (bit-exact for floats; NaN and infinities through a runtime bitcast). */
export function literal(value: number, dtype: DType): string {
  if (dtype === 'bool') return value ? 'true' : 'false';
  if (dtype === 'int32') return `i32(${value | 0})`;
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0];
  // WGSL refuses NaN and infinity in constant expressions; reading the bits from a private
  // variable makes the bitcast a runtime one.
  if (!Number.isFinite(value)) return `bitcast<f32>(st_bits(${bits}u))`;
  return `bitcast<f32>(${bits}u)`;
}

/** Declarations `literal` may need. */
export const LITERAL_SUPPORT = 'var<private> st_bits_v: u32;\nfn st_bits(b: u32) -> u32 { st_bits_v = b; return st_bits_v; }';

/** Row-major strides of `shape`. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/**
 * A WGSL u32 expression for the flat index into an input of `inShape` that the output element
 * `index` of `outShape` reads under NumPy broadcasting.
 */
export function broadcastIndex(index: string, outShape: readonly number[], inShape: readonly number[]): string {
  const offset = outShape.length - inShape.length;
  const outStrides = stridesOf(outShape);
  const inStrides = stridesOf(inShape);
  const terms: string[] = [];
  for (let d = 0; d < inShape.length; d++) {
    if (inShape[d] === 1) continue;
    const od = d + offset;
    const coord = od === 0 ? `(${index} / ${outStrides[od]}u)` : `((${index} / ${outStrides[od]}u) % ${outShape[od]}u)`;
    terms.push(inStrides[d] === 1 ? coord : `${coord} * ${inStrides[d]}u`);
  }
  return terms.length ? terms.join(' + ') : '0u';
}
