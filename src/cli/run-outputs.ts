import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import type * as st from '../index.js';
import type { LabelledData } from './datasets.js';

export interface RunResults {
  model: st.Model;
  data: LabelledData;
  history: { epoch: number[]; history: Record<string, number[]> };
  test: Record<string, number>;
  epochSeconds: number[];
  options: object;
}

/** history.csv: one row per epoch, Keras's CSVLogger columns (epoch, then the sorted log keys). */
export function historyCsv(h: RunResults['history']): string {
  const keys = Object.keys(h.history).sort();
  const rows = h.epoch.map((e, i) => [e, ...keys.map((k) => h.history[k][i] ?? '')].join(','));
  return ['epoch,' + keys.join(','), ...rows].join('\n') + '\n';
}

/** Everything a run leaves next to the saved model: the history as JSON and CSV. */
export async function writeRunOutputs(dir: string, r: RunResults): Promise<void> {
  const summary = { test: r.test, epochSeconds: r.epochSeconds, options: r.options, ...r.history };
  await writeFileAtomic(join(dir, 'history.json'), JSON.stringify(summary, null, 1) + '\n');
  await writeFileAtomic(join(dir, 'history.csv'), historyCsv(r.history));
}
