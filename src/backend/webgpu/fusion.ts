import type { DType } from '../../core/dtype.js';
import type { BinaryPrimitive, UnaryPrimitive } from '../primitives.js';
import { type Expr, GpuData } from './gpu-data.js';

export type { Expr };
import { LITERAL_SUPPORT, bindings, broadcastIndex, elementMain, literal, storageType, valueType } from './wgsl.js';

// Note [Fused elementwise chains]
// An elementwise kernel (unary, binary, comparison, cast, where, reluGrad, fill) dispatches
// nothing: it returns a GpuData whose `expr` says how each element follows from computed storages
// (the leaves). The chain is computed when something else needs its values (another kind of kernel,
// a read), by one generated kernel that reads each leaf once per element and writes once: a
// dense layer's bias add and ReLU, or an optimizer's arithmetic, cost one dispatch instead of one
// per op. Rules that keep it cheap:
//   - an input with the output's size is copied in, and so is a constant; one that broadcasts is
//     computed first and read through a broadcast index (its leaves are indexed by its own shape);
//   - an input whose expression was already copied into another chain is computed first, so a
//     value used twice is not recomputed in every user;
//   - a chain stops growing at MAX_NODES operations or MAX_LEAVES storages (the leaves plus the
//     output must fit the device's storage bindings); its inputs are then computed first.
// The generated source names shapes and constants, so the pipeline cache (Note [One encoder per
// step]) holds one pipeline per chain and shape, compiled on first use.

const MAX_NODES = 40;

/** What fusion needs from the backend. */
export interface FusionHost {
  /** Computes `data` if it is pending; returns its buffer. */
  materialize(data: GpuData): GPUBuffer;
  retain(data: GpuData): void;
  /** Storage bindings a kernel may have, outputs included. */
  readonly maxBindings: number;
}

/** An input of an elementwise kernel: its storage and shape. */
export interface ElementInput {
  data: GpuData;
  shape: readonly number[];
}

function countNodes(e: Expr, seen = new Set<Expr>()): number {
  if (seen.has(e)) return 0;
  seen.add(e);
  switch (e.k) {
    case 'leaf':
    case 'const':
      return 1;
    case 'unary':
    case 'cast':
      return 1 + countNodes(e.a, seen);
    case 'binary':
    case 'reluGrad':
      return 1 + countNodes(e.a, seen) + countNodes(e.b, seen);
    case 'where':
      return 1 + countNodes(e.c, seen) + countNodes(e.a, seen) + countNodes(e.b, seen);
  }
}

/**
 * Builds the pending storage of an elementwise kernel: `build` combines the inputs' expressions
 * (in input order) into the output's. Inputs are copied in or computed first by the rules of Note
 * [Fused elementwise chains].
 */
export function fuse(
  host: FusionHost,
  inputs: readonly ElementInput[],
  outShape: readonly number[],
  outDtype: DType,
  build: (xs: Expr[]) => Expr,
): GpuData {
  const size = outShape.reduce((a, b) => a * b, 1);
  // An input with as many elements as the output is read at the output's own flat index (broadcasting
  // can then only add or drop leading 1s); any other is read through a broadcast index.
  const leafOf = (x: ElementInput): Expr => {
    host.materialize(x.data);
    return { k: 'leaf', dtype: x.data.dtype, data: x.data, outShape, inShape: x.data.size === size ? null : x.shape };
  };
  let exprs = inputs.map((x) => {
    const e = x.data.cell.expr;
    if (!e) return leafOf(x);
    // A constant (a fill) is copied into any chain; a computed chain only once, and only at the same size.
    if (x.data.cell.leaves.length === 0) return e;
    return x.data.inlined === 0 && x.data.size === size ? e : leafOf(x);
  });
  let expr = build(exprs);
  if (leavesOf(expr).length > host.maxBindings - 1 || countNodes(expr) > MAX_NODES) {
    exprs = inputs.map(leafOf);
    expr = build(exprs);
  }
  inputs.forEach((x, i) => {
    if (exprs[i] === x.data.cell.expr && x.data.cell.leaves.length > 0) x.data.inlined++;
  });
  const leaves = leavesOf(expr);
  for (const leaf of leaves) host.retain(leaf);
  return new GpuData({ buffer: undefined, expr, leaves, freed: false }, size, outDtype);
}

/** The distinct storages an expression reads. */
export function leavesOf(expr: Expr): GpuData[] {
  const out = new Set<GpuData>();
  const seen = new Set<Expr>();
  const walk = (e: Expr): void => {
    if (seen.has(e)) return;
    seen.add(e);
    if (e.k === 'leaf') out.add(e.data);
    else if (e.k === 'unary' || e.k === 'cast') walk(e.a);
    else if (e.k === 'binary' || e.k === 'reluGrad') {
      walk(e.a);
      walk(e.b);
    } else if (e.k === 'where') {
      walk(e.c);
      walk(e.a);
      walk(e.b);
    }
  };
  walk(expr);
  return [...out];
}

/** The WGSL kernel that computes `expr` for `size` elements from `leaves` (in binding order). */
export function fusedSource(expr: Expr, leaves: readonly GpuData[], size: number, outDtype: DType): string {
  const lines: string[] = [];
  const names = new Map<Expr, string>();
  const emit = (e: Expr): string => {
    const known = names.get(e);
    if (known) return known;
    const v = `v${names.size}`;
    names.set(e, v);
    lines.push(`  let ${v}: ${valueType(e.dtype)} = ${code(e, emit, leaves)};`);
    return v;
  };
  const result = emit(expr);
  const store = outDtype === 'bool' ? `select(0, 1, ${result})` : result;
  return `${bindings(
    leaves.map((l) => l.dtype),
    [outDtype],
  )}
${LITERAL_SUPPORT}
${HELPERS}
${elementMain(size)}
${lines.join('\n')}
  out[i] = ${store};
}
`;
}

/** The computation of `e` with its operands already named by `emit`. */
function code(e: Expr, emit: (e: Expr) => string, leaves: readonly GpuData[]): string {
  switch (e.k) {
    case 'leaf': {
      const slot = leaves.indexOf(e.data);
      const index = e.inShape ? broadcastIndex('i', e.outShape, e.inShape) : 'i';
      const read = `in${slot}[${index}]`;
      return e.dtype === 'bool' ? `${read} != 0` : read;
    }
    case 'const':
      return literal(e.value, e.dtype);
    case 'cast':
      return castCode(emit(e.a), e.a.dtype, e.dtype);
    case 'where':
      return `select(${emit(e.b)}, ${emit(e.a)}, ${emit(e.c)})`;
    case 'reluGrad':
      return `select(${literal(0, e.dtype)}, ${emit(e.b)}, ${emit(e.a)} > ${literal(0, e.a.dtype)})`;
    case 'unary':
      return unaryCode(e.op, emit(e.a), e.a.dtype, e.dtype);
    case 'binary':
      return binaryCode(e.op, emit(e.a), emit(e.b), e.a.dtype, e.dtype);
  }
}

function castCode(a: string, from: DType, to: DType): string {
  if (from === to) return a;
  if (to === 'bool') return from === 'float32' ? `${a} != 0.0` : `${a} != 0`;
  return `${storageType(to)}(${a})`;
}

// exp, tanh and sign keep NaN through st_keepnan: on SwiftShader exp(NaN) was +Infinity, and
// tanh's clamp (which keeps it finite for large |x|) made tanh(NaN) -1, so NaN vanished from an
// LSTM's output. The others below keep NaN by themselves (checked against native in tests).
const FLOAT_UNARY: Partial<Record<UnaryPrimitive, (a: string) => string>> = {
  exp: (a) => `st_keepnan(${a}, exp(${a}))`,
  log: (a) => `st_log(${a})`,
  sqrt: (a) => `sqrt(${a})`,
  tanh: (a) => `st_keepnan(${a}, tanh(clamp(${a}, -16.0, 16.0)))`,
  sigmoid: (a) => `st_sigmoid(${a})`,
  sin: (a) => `st_sin(${a})`,
  cos: (a) => `st_cos(${a})`,
  floor: (a) => `floor(${a})`,
  ceil: (a) => `ceil(${a})`,
  round: (a) => `round(${a})`,
};

function unaryCode(op: UnaryPrimitive, a: string, from: DType, to: DType): string {
  const t = valueType(to);
  if (op === 'logicalNot') return `!(${castCode(a, from, 'bool')})`;
  const x = castCode(a, from, to === 'bool' ? from : to);
  switch (op) {
    case 'neg':
      return `-(${x})`;
    case 'abs':
      return `abs(${x})`;
    case 'sign':
      return t === 'f32' ? `st_keepnan(${x}, sign(${x}))` : `sign(${x})`;
    case 'relu':
      return t === 'f32' ? `st_relu(${x})` : `max(${x}, 0)`;
  }
  if (t !== 'f32') {
    if (op === 'floor' || op === 'ceil' || op === 'round') return x;
    return `${t}(${FLOAT_UNARY[op]?.(`f32(${x})`)})`;
  }
  const f = FLOAT_UNARY[op];
  if (!f) throw new Error(`webgpu: no WGSL for ${op}`);
  return f(x);
}

const COMPARE: Partial<Record<BinaryPrimitive, string>> = {
  equal: '==',
  notEqual: '!=',
  greater: '>',
  greaterEqual: '>=',
  less: '<',
  lessEqual: '<=',
};

function binaryCode(op: BinaryPrimitive, a: string, b: string, from: DType, to: DType): string {
  const cmp = COMPARE[op];
  if (cmp && from === 'float32') return floatCompare(cmp, a, b);
  if (cmp) return from === 'bool' && cmp !== '==' && cmp !== '!=' ? `i32(${a}) ${cmp} i32(${b})` : `${a} ${cmp} ${b}`;
  if (op === 'logicalAnd') return `(${castCode(a, from, 'bool')}) && (${castCode(b, from, 'bool')})`;
  if (op === 'logicalOr') return `(${castCode(a, from, 'bool')}) || (${castCode(b, from, 'bool')})`;
  const f = to === 'float32';
  switch (op) {
    case 'add':
      return `${a} + ${b}`;
    case 'sub':
      return `${a} - ${b}`;
    case 'mul':
      return `${a} * ${b}`;
    case 'div':
      return f ? `${a} / ${b}` : `st_idiv(${a}, ${b})`;
    case 'pow':
      return f ? `st_pow(${a}, ${b})` : `st_ipow(${a}, ${b})`;
    case 'maximum':
      return f ? `st_max(${a}, ${b})` : `max(${a}, ${b})`;
    case 'minimum':
      return f ? `st_min(${a}, ${b})` : `min(${a}, ${b})`;
  }
  throw new Error(`webgpu: no WGSL for ${op}`);
}

// Float comparisons answer IEEE's way whatever the shader compiler assumes: WGSL lets an
// implementation treat NaN as absent, and SwiftShader folds `x != x` to false, which made isNaN
// (notEqual(x, x)) false for NaN and lost NaN through fmax, fmin and step. NaN is tested on the
// bits (st_isnan), which no such assumption removes: a comparison with a NaN is false, and != true.
function floatCompare(cmp: string, a: string, b: string): string {
  if (cmp === '!=') return `(${a} != ${b} || st_isnan(${a}) || st_isnan(${b}))`;
  return `(${a} ${cmp} ${b} && !st_isnan(${a}) && !st_isnan(${b}))`;
}

// Functions the generated kernels call: NumPy's answers where WGSL leaves a case undefined
// (a negative base to an integer power, NaN through max and min, ReLU of NaN, log of 0).
const HELPERS = `
fn st_nan() -> f32 { return bitcast<f32>(st_bits(0x7fc00000u)); }
fn st_inf() -> f32 { return bitcast<f32>(st_bits(0x7f800000u)); }
fn st_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn st_keepnan(x: f32, y: f32) -> f32 { return select(y, x, st_isnan(x)); }
// log to float32 rounding: WGSL promises log only to an absolute 2^-21 near 1 (SwiftShader is
// worse), which breaks the cancellation expm1 and log1p rely on (Note [expm1 and log1p without
// cancellation]). x = m·2^e with m in [√½, √2), then log m = 2·atanh(s), s = (m - 1)/(m + 1),
// |s| < 0.172, by its series to s^11, and ln 2 in two parts so e·ln 2 adds no rounding.
fn st_log(x: f32) -> f32 {
  if (x == 0.0) { return -st_inf(); }
  if (x < 0.0 || st_isnan(x)) { return st_nan(); }
  if (x == st_inf()) { return x; }
  let f = frexp(x);
  var m = f.fract;
  var e = f32(f.exp);
  if (m < 0.70710677) {
    m = m * 2.0;
    e = e - 1.0;
  }
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  let tail = s2 * (0.33333334 + s2 * (0.2 + s2 * (0.14285715 + s2 * (0.11111111 + s2 * 0.09090909))));
  return e * 0.693145751953125 + (2.0 * s + (2.0 * s * tail + e * 1.4286068e-6));
}
fn st_sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
fn st_relu(x: f32) -> f32 { return select(0.0, x, x > 0.0 || st_isnan(x)); }
fn st_max(a: f32, b: f32) -> f32 { return select(select(b, a, a >= b), a, st_isnan(a)); }
fn st_min(a: f32, b: f32) -> f32 { return select(select(b, a, a <= b), a, st_isnan(a)); }
fn st_pow(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (st_isnan(a) || st_isnan(b)) { return st_nan(); }
  // An integer exponent by repeated squaring: exact squares and cubes, and negative bases.
  if (b == floor(b) && abs(b) <= 1024.0) {
    var r = 1.0;
    var base = a;
    var e = u32(abs(b));
    loop {
      if (e == 0u) { break; }
      if ((e & 1u) == 1u) { r = r * base; }
      base = base * base;
      e = e >> 1u;
    }
    return select(r, 1.0 / r, b < 0.0);
  }
  if (a == 0.0) { return select(0.0, st_inf(), b < 0.0); }
  if (a < 0.0) { return st_nan(); }
  return exp2(b * log2(a));
}
// sin and cos to float32 rounding: WGSL promises only an absolute 2^-11 (SwiftShader is off by
// 1e-4). The argument is reduced by k·π/2 with π/2 split in three parts, the first two short enough
// that k times them is exact, then the Taylor series to r^9 (sin) and r^10 (cos) on |r| <= π/4.
fn st_sin_r(r: f32) -> f32 {
  let r2 = r * r;
  return r + r * r2 * (-0.16666667 + r2 * (0.008333334 + r2 * (-0.0001984127 + r2 * 2.7557319e-6)));
}
fn st_cos_r(r: f32) -> f32 {
  let r2 = r * r;
  return 1.0 + r2 * (-0.5 + r2 * (0.041666668 + r2 * (-0.0013888889 + r2 * (2.4801588e-5 - r2 * 2.7557319e-7))));
}
fn st_quadrant(x: f32) -> vec2f {
  let k = round(x * 0.63661975);
  let r = ((x - k * 1.5703125) - k * 0.0004837513) - k * 7.54979e-8;
  return vec2f(r, k);
}
fn st_sin(x: f32) -> f32 {
  let q = st_quadrant(x);
  let s = st_sin_r(q.x);
  let c = st_cos_r(q.x);
  let n = u32(i32(q.y) & 3);
  return select(select(select(-c, -s, n == 2u), c, n == 1u), s, n == 0u);
}
fn st_cos(x: f32) -> f32 {
  let q = st_quadrant(x);
  let s = st_sin_r(q.x);
  let c = st_cos_r(q.x);
  let n = u32(i32(q.y) & 3);
  return select(select(select(s, -c, n == 2u), -s, n == 1u), c, n == 0u);
}
fn st_idiv(a: i32, b: i32) -> i32 { return select(a / b, 0, b == 0); }
fn st_ipow(a: i32, b: i32) -> i32 {
  if (b < 0) { return select(select(0, select(-1, 1, (b & 1) == 0), a == -1), 1, a == 1); }
  var r = 1;
  var base = a;
  var e = b;
  loop {
    if (e == 0) { break; }
    if ((e & 1) == 1) { r = r * base; }
    base = base * base;
    e = e >> 1u;
  }
  return r;
}
`;
