// The input features: functions of a point's two coordinates that the network may take as
// inputs. They are computed in plain JS on the points before they become tensors; the network
// (Strata) only ever sees the chosen columns.
import { DOMAIN, type Point } from './datasets.js';

export type FeatureId = 'x1' | 'x2' | 'x1sq' | 'x2sq' | 'x1x2' | 'sinx1' | 'sinx2';

export interface Feature {
  id: FeatureId;
  /** HTML for the node's label. */
  label: string;
  /** Plain text, for titles and hovers. */
  text: string;
  f: (x: number, y: number) => number;
}

export const FEATURES: readonly Feature[] = [
  { id: 'x1', label: 'X<sub>1</sub>', text: 'x1', f: (x) => x },
  { id: 'x2', label: 'X<sub>2</sub>', text: 'x2', f: (_, y) => y },
  { id: 'x1sq', label: 'X<sub>1</sub><sup>2</sup>', text: 'x1²', f: (x) => x * x },
  { id: 'x2sq', label: 'X<sub>2</sub><sup>2</sup>', text: 'x2²', f: (_, y) => y * y },
  { id: 'x1x2', label: 'X<sub>1</sub>X<sub>2</sub>', text: 'x1·x2', f: (x, y) => x * y },
  { id: 'sinx1', label: 'sin(X<sub>1</sub>)', text: 'sin(x1)', f: (x) => Math.sin(x) },
  { id: 'sinx2', label: 'sin(X<sub>2</sub>)', text: 'sin(x2)', f: (_, y) => Math.sin(y) },
];

export const FEATURE_IDS: readonly FeatureId[] = FEATURES.map((f) => f.id);

export function featureById(id: FeatureId): Feature {
  const found = FEATURES.find((f) => f.id === id);
  if (!found) throw new Error(`unknown feature ${id}`);
  return found;
}

/** Row-major [points.length, ids.length] values of the chosen features, ready for st.tensor(values, shape). */
export function featureMatrix(points: readonly Pick<Point, 'x' | 'y'>[], ids: readonly FeatureId[]): Float32Array {
  const fs = ids.map(featureById);
  const out = new Float32Array(points.length * fs.length);
  points.forEach((p, i) => {
    fs.forEach((feature, j) => {
      out[i * fs.length + j] = feature.f(p.x, p.y);
    });
  });
  return out;
}

/** The centres of an n × n grid over the domain, row by row from the top (y = +DOMAIN) down, as a canvas is drawn. */
export function gridPoints(n: number): { x: number; y: number }[] {
  const points: { x: number; y: number }[] = [];
  const step = (2 * DOMAIN) / n;
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) points.push({ x: -DOMAIN + (col + 0.5) * step, y: DOMAIN - (row + 0.5) * step });
  }
  return points;
}

/**
 * A feature's values over the grid scaled into [-1, 1] by its largest magnitude, so its node's
 * thumbnail uses the whole color scale (x1² reaches 36 where sin(x1) reaches 1).
 */
export function featureThumbnail(id: FeatureId, grid: readonly { x: number; y: number }[]): Float32Array {
  const f = featureById(id).f;
  const values = Float32Array.from(grid, (p) => f(p.x, p.y));
  let largest = 0;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  if (largest > 0) for (let i = 0; i < values.length; i++) values[i] /= largest;
  return values;
}
