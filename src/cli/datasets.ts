import * as st from '../index.js';

/** A labelled image classification split, as `strata train` and `strata evaluate` use it. */
export interface LabelledData {
  xTrain: st.Tensor;
  yTrain: st.Tensor;
  xTest: st.Tensor;
  yTest: st.Tensor;
  classNames: string[];
  name: string;
}

/** Keeps the first n samples of each split (`--limit`), for quick runs. */
function limit(d: LabelledData, n: number | undefined): LabelledData {
  if (n === undefined) return d;
  const first = (t: st.Tensor) => (t.shape[0] > n ? st.slice(t, [0], [n]) : t);
  return { ...d, xTrain: first(d.xTrain), yTrain: first(d.yTrain), xTest: first(d.xTest), yTest: first(d.yTest) };
}

/** Resolves `--dataset mnist | fashion-mnist`. */
export async function loadDataset(spec: string, limitTo?: number): Promise<LabelledData> {
  if (spec === 'mnist') return limit({ ...(await st.data.mnist()), name: 'mnist' }, limitTo);
  if (spec === 'fashion-mnist') return limit({ ...(await st.data.fashionMnist()), name: 'fashion-mnist' }, limitTo);
  throw new st.ValueError(`--dataset: expected mnist or fashion-mnist; received ${JSON.stringify(spec)}`);
}
