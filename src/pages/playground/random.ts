// A small seeded random source for the data sets, so a shared URL (which carries the seed)
// regenerates exactly the same points. Strata's own generator seeds the weights and the shuffles.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Normal with the given mean and variance. */
  normal(mean: number, variance: number): number;
}

/** xorshift32 over the seed, with a normal draw from two uniforms (Box–Muller). */
export function seededRandom(seed: number): Random {
  // A zero state would stay zero forever; any fixed nonzero constant avoids it.
  let s = seed >>> 0 || 0x2545f491;
  const next = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  // Mix the seed a few rounds so that neighbouring seeds do not start with similar draws.
  for (let i = 0; i < 8; i++) next();
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    normal: (mean, variance) => {
      const u = 1 - next();
      const v = next();
      return mean + Math.sqrt(variance) * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
  };
}

/** Shuffles in place (Fisher–Yates) with the given source. */
export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
