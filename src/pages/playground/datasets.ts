// The two-dimensional data sets: four for classification (labels -1 and +1) and two for
// regression (targets in [-1, 1]). Every point lies in the square [-DOMAIN, DOMAIN]², which the
// heat maps show. Noise is a percentage (0 to 50) as on the page's slider.
import { type Random, seededRandom, shuffleInPlace } from './random.js';

export const DOMAIN = 6;
/** Points per data set, train and test together. */
export const SAMPLES = 500;

export type Problem = 'classification' | 'regression';
export type DatasetName = 'circle' | 'xor' | 'gauss' | 'spiral' | 'plane' | 'multigauss';

export interface Point {
  x: number;
  y: number;
  label: number;
}

type Generator = (n: number, noise: number, random: Random) => Point[];

/** An inner disc (+1) and a ring around it (-1); labels follow where the noisy point landed. */
const circle: Generator = (n, noise, random) => {
  const radius = 5;
  const points: Point[] = [];
  const ring = (from: number, to: number) => {
    for (let i = 0; i < n / 2; i++) {
      const r = random.uniform(from, to);
      const angle = random.uniform(0, 2 * Math.PI);
      const x = r * Math.sin(angle) + random.uniform(-radius, radius) * noise;
      const y = r * Math.cos(angle) + random.uniform(-radius, radius) * noise;
      points.push({ x, y, label: Math.hypot(x, y) < radius * 0.5 ? 1 : -1 });
    }
  };
  ring(0, radius * 0.5);
  ring(radius * 0.7, radius);
  return points;
};

/** Uniform points labelled by the sign of x·y; kept off the axes so the quadrants are clear without noise. */
const xor: Generator = (n, noise, random) => {
  const points: Point[] = [];
  const away = (v: number) => v + (v > 0 ? 0.3 : -0.3);
  for (let i = 0; i < n; i++) {
    const x = away(random.uniform(-5, 5)) + random.uniform(-5, 5) * noise;
    const y = away(random.uniform(-5, 5)) + random.uniform(-5, 5) * noise;
    points.push({ x, y, label: x * y >= 0 ? 1 : -1 });
  }
  return points;
};

/** Two normal clusters whose spread grows with the noise until they overlap. */
const gauss: Generator = (n, noise, random) => {
  const variance = 0.5 + 3.5 * noise * 2; // 0.5 without noise, 4 at the slider's top (50 %)
  const points: Point[] = [];
  for (const [cx, cy, label] of [
    [2, 2, 1],
    [-2, -2, -1],
  ]) {
    for (let i = 0; i < n / 2; i++) points.push({ x: random.normal(cx, variance), y: random.normal(cy, variance), label });
  }
  return points;
};

/** Two interleaved arms of one and three-quarter turns each. */
const spiral: Generator = (n, noise, random) => {
  const points: Point[] = [];
  for (const [phase, label] of [
    [0, 1],
    [Math.PI, -1],
  ]) {
    for (let i = 0; i < n / 2; i++) {
      const r = (i / (n / 2)) * 5;
      const t = 1.75 * (i / (n / 2)) * 2 * Math.PI + phase;
      points.push({ x: r * Math.sin(t) + random.uniform(-1, 1) * noise, y: r * Math.cos(t) + random.uniform(-1, 1) * noise, label });
    }
  }
  return points;
};

/** Regression onto a tilted plane: the target rises from -1 at (-6, -6) to +1 at (6, 6). */
const plane: Generator = (n, noise, random) => {
  const points: Point[] = [];
  for (let i = 0; i < n; i++) {
    const x = random.uniform(-DOMAIN, DOMAIN);
    const y = random.uniform(-DOMAIN, DOMAIN);
    // The target is the clean point's; noise moves where the point is drawn, as it does for the classes.
    points.push({ x: x + random.uniform(-DOMAIN, DOMAIN) * noise, y: y + random.uniform(-DOMAIN, DOMAIN) * noise, label: (x + y) / (2 * DOMAIN) });
  }
  return points;
};

/** Six bumps of alternating sign on a 3 × 2 grid; the target is their sum, clipped to [-1, 1]. */
const BUMPS: [number, number, number][] = [
  [-4, 2.5, 1],
  [0, 2.5, -1],
  [4, 2.5, 1],
  [-4, -2.5, -1],
  [0, -2.5, 1],
  [4, -2.5, -1],
];
export function bumpsAt(x: number, y: number): number {
  let v = 0;
  for (const [cx, cy, sign] of BUMPS) v += sign * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * 1.6 ** 2));
  return Math.max(-1, Math.min(1, v));
}
const multigauss: Generator = (n, noise, random) => {
  const points: Point[] = [];
  for (let i = 0; i < n; i++) {
    const x = random.uniform(-DOMAIN, DOMAIN);
    const y = random.uniform(-DOMAIN, DOMAIN);
    points.push({ x: x + random.uniform(-DOMAIN, DOMAIN) * noise, y: y + random.uniform(-DOMAIN, DOMAIN) * noise, label: bumpsAt(x, y) });
  }
  return points;
};

const GENERATORS: Record<DatasetName, Generator> = { circle, xor, gauss, spiral, plane, multigauss };

/** The data sets of each problem type, in the order the page lists them. */
export const DATASETS: Record<Problem, { name: DatasetName; title: string }[]> = {
  classification: [
    { name: 'circle', title: 'Circle' },
    { name: 'xor', title: 'Exclusive or' },
    { name: 'gauss', title: 'Gaussian' },
    { name: 'spiral', title: 'Spiral' },
  ],
  regression: [
    { name: 'plane', title: 'Plane' },
    { name: 'multigauss', title: 'Multi Gaussian' },
  ],
};

export function problemOf(name: DatasetName): Problem {
  return DATASETS.classification.some((d) => d.name === name) ? 'classification' : 'regression';
}

export interface Split {
  train: Point[];
  test: Point[];
}

/** SAMPLES points of the named set, shuffled and split: `ratio` percent train, the rest test. */
export function generate(name: DatasetName, noisePercent: number, ratioPercent: number, seed: number, samples = SAMPLES): Split {
  const random = seededRandom(seed);
  const points = shuffleInPlace(GENERATORS[name](samples, noisePercent / 100, random), random);
  const cut = Math.round((points.length * ratioPercent) / 100);
  return { train: points.slice(0, cut), test: points.slice(cut) };
}
