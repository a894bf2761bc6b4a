import { ValueError, fmtValue } from './errors.js';

// Note [Counter-based randomness]
// Every random op draws from Philox4x32-10 (Salmon et al., 2011), a counter-based generator:
// block i of a stream is philox(counter = [i, 0, attempt, 0], key), a pure function. A backend
// therefore needs no hidden state to reproduce a stream, and any backend that implements the
// same function (the reference backend here, the native one in C++) yields the same numbers.
// The global state is just a key (from `setSeed`) and a running block offset that each random
// op advances by the number of blocks it consumed.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two unsigned 32-bit integers, exact in doubles. */
function mulhi(a: number, b: number): number {
  const aLo = a & 0xffff,
    aHi = a >>> 16,
    bLo = b & 0xffff,
    bHi = b >>> 16;
  const hilo = aHi * bLo;
  const cross = ((aLo * bLo) >>> 16) + (hilo & 0xffff) + aLo * bHi;
  return (aHi * bHi + (hilo >>> 16) + Math.floor(cross / 65536)) >>> 0;
}

/** Philox4x32 with 10 rounds; writes the four output words into `out`. */
export function philox4x32(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0),
      lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2),
      lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** A stream: a key and the first block it may use. */
export interface RandomStream {
  key: [number, number];
  offset: number;
}

export type Distribution =
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'normal'; mean: number; stddev: number }
  | { kind: 'truncatedNormal'; mean: number; stddev: number }
  | { kind: 'bernoulli'; p: number };

const TWO_POW_MINUS_24 = 1 / 16777216;
const u01 = (w: number) => (w >>> 8) * TWO_POW_MINUS_24; // [0, 1)
const u01Open = (w: number) => ((w >>> 8) + 1) * TWO_POW_MINUS_24; // (0, 1]

function boxMuller(w0: number, w1: number): number {
  return Math.sqrt(-2 * Math.log(u01Open(w0))) * Math.cos(2 * Math.PI * u01(w1));
}

/**
 * Fills `out` from `stream`: element i uses block (offset + i). This is the specification
 * every backend's random kernel must match bit for bit before rounding to the output dtype.
 */
export function fillRandom(out: { length: number; [i: number]: number }, stream: RandomStream, dist: Distribution): void {
  const words = new Uint32Array(4);
  const [k0, k1] = stream.key;
  for (let i = 0; i < out.length; i++) {
    const block = stream.offset + i;
    const lo = block >>> 0,
      hi = Math.floor(block / 4294967296) >>> 0;
    philox4x32(lo, hi, 0, 0, k0, k1, words);
    switch (dist.kind) {
      case 'uniform':
        out[i] = dist.min + (dist.max - dist.min) * u01(words[0]);
        break;
      case 'bernoulli':
        out[i] = u01(words[0]) < dist.p ? 1 : 0;
        break;
      case 'normal':
        out[i] = dist.mean + dist.stddev * boxMuller(words[0], words[1]);
        break;
      case 'truncatedNormal': {
        // Redraw beyond two standard deviations, as Keras's TruncatedNormal does; each
        // redraw uses the next attempt counter, so the result stays a pure function.
        let z = boxMuller(words[0], words[1]);
        if (Math.abs(z) > 2) z = boxMuller(words[2], words[3]);
        for (let attempt = 1; Math.abs(z) > 2; attempt++) {
          philox4x32(lo, hi, attempt, 0, k0, k1, words);
          z = boxMuller(words[0], words[1]);
        }
        out[i] = dist.mean + dist.stddev * z;
        break;
      }
    }
  }
}

/** Splits a JavaScript number seed into a 64-bit Philox key. */
export function keyFromSeed(seed: number): [number, number] {
  if (!Number.isFinite(seed) || !Number.isInteger(seed)) {
    throw new ValueError(`setSeed: seed must be a finite integer; received ${seed}`);
  }
  const s = Math.abs(seed);
  return [s >>> 0, (Math.floor(s / 4294967296) ^ (seed < 0 ? 0x80000000 : 0)) >>> 0];
}

let globalKey: [number, number] = keyFromSeed(Math.floor(Math.random() * 2 ** 52));
let globalOffset = 0;

/**
 * Makes every later random op (initializers, shuffling, dropout) reproducible.
 * Each random op then takes the next values of one counter-based stream, so a program that makes
 * the same calls draws the same numbers on every backend.
 * @throws ValueError when seed is not a finite integer.
 */
export function setSeed(seed: number): void {
  globalKey = keyFromSeed(seed);
  globalOffset = 0;
}

/**
 * The stream for one random op of `n` elements: an explicit seed gives a fixed stream,
 * otherwise the global stream advances past the blocks this op uses.
 */
export function nextStream(n: number, seed?: number): RandomStream {
  if (seed !== undefined) return { key: keyFromSeed(seed), offset: 0 };
  const stream: RandomStream = { key: globalKey, offset: globalOffset };
  globalOffset += n;
  return stream;
}

/** Random integers in [0, n) for host-side work such as shuffling (uses the global stream). */
export function randomPermutation(n: number, seed?: number): Int32Array {
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const u = new Float64Array(n);
  fillRandom(u, nextStream(n, seed), { kind: 'uniform', min: 0, max: 1 });
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u[i] * (i + 1));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm;
}

/** The global stream's position: saved with a checkpoint so a resumed run draws the same numbers. */
export interface RngState {
  /** The 64-bit Philox key, as two unsigned 32-bit halves (set by `st.setSeed`). */
  key: [number, number];
  /** How many random blocks the global stream has used since the key was set. */
  offset: number;
}

export function getRngState(): RngState {
  return { key: [globalKey[0], globalKey[1]], offset: globalOffset };
}

export function setRngState(state: RngState): void {
  const ok =
    state &&
    Array.isArray(state.key) &&
    state.key.length === 2 &&
    state.key.every((k) => Number.isInteger(k) && k >= 0 && k < 2 ** 32) &&
    Number.isInteger(state.offset) &&
    state.offset >= 0;
  if (!ok) throw new ValueError(`setRngState: expected {key: [uint32, uint32], offset: non-negative integer}; received ${fmtValue(state)}`);
  globalKey = [state.key[0], state.key[1]];
  globalOffset = state.offset;
}
