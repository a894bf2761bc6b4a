// Host-side randomness for the data pipeline (shuffle buffers, augmentation parameters), drawn
// from the same Philox4x32-10 function as every random op (core/rng.ts), so `st.setSeed` or an
// explicit `seed` option makes a pipeline reproducible.
//
// Note [Per-iteration shuffle keys]
// A dataset may be iterated many times and its length may be unknown or infinite, so a shuffle
// cannot reserve a fixed number of blocks from the global stream up front. Instead each
// iteration takes ONE block from the global stream (or derives one from an explicit seed and the
// iteration number) and uses its two words as the key of a private Philox stream, which it then
// reads block after block for as long as it needs. The pipeline therefore consumes exactly one
// global block per iteration however many elements it shuffles.

import { keyFromSeed, nextStream, philox4x32 } from '../core/rng.js';

export type PhiloxKey = [number, number];

const TWO_POW_32 = 4294967296;
const TWO_POW_MINUS_53 = 1 / 9007199254740992;

/** A key drawn from the global stream (advancing it by one block). */
export function globalKey(): PhiloxKey {
  const stream = nextStream(1);
  const words = new Uint32Array(4);
  philox4x32(stream.offset >>> 0, Math.floor(stream.offset / TWO_POW_32) >>> 0, 0, 0, stream.key[0], stream.key[1], words);
  return [words[0], words[1]];
}

/** The key of iteration `index` under an explicit seed: a pure function of (seed, index). */
export function derivedKey(seed: number, index: number): PhiloxKey {
  const [k0, k1] = keyFromSeed(seed);
  const words = new Uint32Array(4);
  // Counter word 3 = 1 keeps these blocks apart from the blocks random ops read under the same seed.
  philox4x32(index >>> 0, Math.floor(index / TWO_POW_32) >>> 0, 0, 1, k0, k1, words);
  return [words[0], words[1]];
}

/** A sequential reader of one private Philox stream: block i is philox([i, 0, 0, 0], key). */
export class HostRandom {
  private readonly words = new Uint32Array(4);
  private block = 0;
  private used = 4;

  constructor(private readonly key: PhiloxKey) {}

  private word(): number {
    if (this.used === 4) {
      philox4x32(this.block >>> 0, Math.floor(this.block / TWO_POW_32) >>> 0, 0, 0, this.key[0], this.key[1], this.words);
      this.block++;
      this.used = 0;
    }
    return this.words[this.used++];
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.word() >>> 5,
      lo = this.word() >>> 6;
    return (hi * 67108864 + lo) * TWO_POW_MINUS_53;
  }

  /** A uniform integer in [0, n). */
  index(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** A standard normal sample (Box–Muller on two uniforms). */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/**
 * The buffer of a tf.data-style shuffle: filled with the first `capacity` elements, then each
 * output is a uniformly chosen buffer slot, refilled from the input while the input lasts.
 * With capacity >= the input's length this yields a uniform random permutation.
 */
export class ShuffleBuffer<T> {
  private readonly items: T[] = [];

  constructor(
    readonly capacity: number,
    private readonly random: HostRandom,
  ) {}

  get full(): boolean {
    return this.items.length >= this.capacity;
  }

  get length(): number {
    return this.items.length;
  }

  add(item: T): void {
    this.items.push(item);
  }

  /** Removes and returns a uniformly chosen element; `replacement` takes its slot when given. */
  take(replacement?: { value: T }): T {
    const i = this.random.index(this.items.length);
    const chosen = this.items[i];
    if (replacement !== undefined) {
      this.items[i] = replacement.value;
    } else {
      // Order inside the buffer does not matter: move the last element into the hole.
      this.items[i] = this.items[this.items.length - 1];
      this.items.pop();
    }
    return chosen;
  }
}

/** Shuffles a synchronous stream through a buffer (used for index streams over arrays). */
export function* shuffleSync<T>(source: Iterator<T>, capacity: number, random: HostRandom): Generator<T> {
  const buffer = new ShuffleBuffer<T>(capacity, random);
  for (let r = source.next(); !r.done; r = source.next()) {
    if (!buffer.full) {
      buffer.add(r.value);
      continue;
    }
    yield buffer.take({ value: r.value });
  }
  while (buffer.length > 0) yield buffer.take();
}

/** The asynchronous twin of `shuffleSync`, for general datasets. */
export async function* shuffleAsync<T>(source: AsyncIterator<T>, capacity: number, random: HostRandom): AsyncGenerator<T> {
  const buffer = new ShuffleBuffer<T>(capacity, random);
  let finished = false;
  try {
    for (let r = await source.next(); !r.done; r = await source.next()) {
      if (!buffer.full) {
        buffer.add(r.value);
        continue;
      }
      yield buffer.take({ value: r.value });
    }
    finished = true;
  } finally {
    // A consumer that stops early (break) must release the source too.
    if (!finished) await source.return?.();
  }
  while (buffer.length > 0) yield buffer.take();
}
