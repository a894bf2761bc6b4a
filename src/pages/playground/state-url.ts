// The playground's settings and their form in the address's hash, so a configuration can be
// shared as a link and a reload restores it. Anything missing or invalid in the hash falls back
// to its default rather than failing: a hand-edited link still opens.
import { type DatasetName, type Problem, DATASETS, problemOf } from './datasets.js';
import { FEATURE_IDS, type FeatureId } from './features.js';

export type ActivationName = 'relu' | 'tanh' | 'sigmoid' | 'linear';
export type RegularizationName = 'none' | 'l1' | 'l2';

export const ACTIVATIONS: readonly ActivationName[] = ['relu', 'tanh', 'sigmoid', 'linear'];
export const REGULARIZATIONS: readonly RegularizationName[] = ['none', 'l1', 'l2'];
export const LEARNING_RATES: readonly number[] = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
export const REGULARIZATION_RATES: readonly number[] = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
export const MAX_LAYERS = 6;
export const MAX_NEURONS = 8;

export interface PlaygroundState {
  problem: Problem;
  dataset: DatasetName;
  /** Percent, 0 to 50. */
  noise: number;
  /** Percent of the points used for training, 10 to 90. */
  ratio: number;
  /** 1 to 30. */
  batch: number;
  features: FeatureId[];
  /** Neurons of each hidden layer (0 to MAX_LAYERS layers of 1 to MAX_NEURONS). */
  layers: number[];
  activation: ActivationName;
  lr: number;
  regularization: RegularizationName;
  regularizationRate: number;
  seed: number;
  showTest: boolean;
  discretize: boolean;
}

export function defaultState(): PlaygroundState {
  return {
    problem: 'classification',
    dataset: 'circle',
    noise: 0,
    ratio: 50,
    batch: 10,
    features: ['x1', 'x2'],
    layers: [4, 2],
    activation: 'tanh',
    lr: 0.03,
    regularization: 'none',
    regularizationRate: 0,
    seed: 1,
    showTest: false,
    discretize: false,
  };
}

export function serializeState(s: PlaygroundState): string {
  const q = new URLSearchParams({
    problem: s.problem,
    dataset: s.dataset,
    noise: String(s.noise),
    ratio: String(s.ratio),
    batch: String(s.batch),
    features: s.features.join(','),
    layers: s.layers.join(','),
    activation: s.activation,
    lr: String(s.lr),
    regularization: s.regularization,
    rate: String(s.regularizationRate),
    seed: String(s.seed),
    showTest: s.showTest ? '1' : '0',
    discretize: s.discretize ? '1' : '0',
  });
  // Commas stay readable in a shared link.
  return q.toString().replace(/%2C/g, ',');
}

const intIn = (v: string | null, lo: number, hi: number, fallback: number): number => {
  const n = Number(v);
  return v !== null && v !== '' && Number.isInteger(n) && n >= lo && n <= hi ? n : fallback;
};
const oneOf = <T extends string>(v: string | null, allowed: readonly T[], fallback: T): T => (allowed.includes(v as T) ? (v as T) : fallback);
/** The listed value nearest to v, so a rate outside the menu still opens with a menu entry selected. */
const nearest = (v: string | null, allowed: readonly number[], fallback: number): number => {
  const n = Number(v);
  if (v === null || v === '' || !Number.isFinite(n)) return fallback;
  return allowed.reduce((best, a) =>
    Math.abs(Math.log10(a + 1e-9) - Math.log10(n + 1e-9)) < Math.abs(Math.log10(best + 1e-9) - Math.log10(n + 1e-9)) ? a : best,
  );
};

export function parseState(hash: string): PlaygroundState {
  const d = defaultState();
  const q = new URLSearchParams(hash.replace(/^#/, ''));
  const allDatasets = [...DATASETS.classification, ...DATASETS.regression].map((x) => x.name);
  const dataset = oneOf(q.get('dataset'), allDatasets, d.dataset);
  // Always in the diagram's order, which is the order of the network's input columns.
  const asked = new Set((q.get('features') ?? '').split(','));
  const features = FEATURE_IDS.filter((f) => asked.has(f));
  const layersText = q.get('layers');
  const layers =
    layersText === null
      ? d.layers
      : layersText === ''
        ? []
        : layersText
            .split(',')
            .slice(0, MAX_LAYERS)
            .map((n) => intIn(n, 1, MAX_NEURONS, 4));
  return {
    // The data set decides the problem type, so the two can never disagree.
    problem: problemOf(dataset),
    dataset,
    noise: intIn(q.get('noise'), 0, 50, d.noise),
    ratio: intIn(q.get('ratio'), 10, 90, d.ratio),
    batch: intIn(q.get('batch'), 1, 30, d.batch),
    features: features.length > 0 ? features : d.features,
    layers,
    activation: oneOf(q.get('activation'), ACTIVATIONS, d.activation),
    lr: nearest(q.get('lr'), LEARNING_RATES, d.lr),
    regularization: oneOf(q.get('regularization'), REGULARIZATIONS, d.regularization),
    regularizationRate: nearest(q.get('rate'), REGULARIZATION_RATES, d.regularizationRate),
    seed: intIn(q.get('seed'), 0, 2 ** 31 - 1, d.seed),
    showTest: q.get('showTest') === '1',
    discretize: q.get('discretize') === '1',
  };
}
