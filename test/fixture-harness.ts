// What the PyTorch-fixture tests of layers share: the fixture files' number blobs, loading a
// fixture, the backend/dtype runs each case goes through and making a layer by its factory name.
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { assertCloseAsync, withBackendAsync } from './helpers.js';

/** A tensor in a fixture file: its shape and row-major values. */
export interface Blob {
  shape: number[];
  data: number[];
}

export const blob = (b: Blob, dtype: st.DType): st.Tensor => st.tensor(b.data, b.shape, dtype);

/** test/fixtures/<file>, written by the committed scripts/make_*.py. */
export function loadFixture<Case>(file: string): { cases: Case[] } {
  return JSON.parse(readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8')) as { cases: Case[] };
}

export interface FixtureRun {
  backend: string;
  dtype: st.DType;
  rtol: number;
  atol: number;
}

/**
 * float32 on every available backend checks the kernels (at the given tolerances); float64 on the
 * reference backend checks the maths exactly. Asynchronous because it first opens the backends
 * that open asynchronously (webgpu, where there is an adapter), so they get runs too: a test file
 * awaits it at the top (`const runs = await fixtureRuns()`) and reads values with
 * `await t.data()` (assertCloseAsync), since webgpu has no synchronous read. Opening them here and
 * not when this module loads keeps them out of `st.backends()` in files that only use the loaders.
 */
export async function fixtureRuns(float32: { rtol: number; atol: number } = { rtol: 2e-4, atol: 2e-5 }): Promise<FixtureRun[]> {
  await st.ready();
  const available = st
    .backends()
    .filter((b) => b.available)
    .map((b) => b.name);
  return [
    ...available.map((backend) => ({ backend, dtype: 'float32' as st.DType, ...float32 })),
    ...(available.includes('reference') ? [{ backend: 'reference', dtype: 'float64' as st.DType, rtol: 1e-9, atol: 1e-10 }] : []),
  ];
}

/** A layer from its factory name in st.layers (a fixture case's `layer`) and a config. */
export function makeLayer(name: string, config: Record<string, unknown>): st.Layer {
  return (st.layers[name as keyof typeof st.layers] as unknown as (c: Record<string, unknown>) => st.Layer)(config);
}

/** A layer fixture case: the layer, its weights in Keras's order, an input and PyTorch's answers. */
export interface LayerCase {
  name: string;
  layer: string;
  config: Record<string, unknown>;
  input: Blob;
  weights: Blob[];
  output: Blob;
  upstream: Blob;
  gradInput: Blob;
  gradWeights: Blob[];
}

/**
 * The check every layer fixture gets, on every run (backend and dtype): the layer built from the
 * case's config and weights gives the output, and the gradients of sum(output * upstream) with
 * respect to the input and to each weight.
 */
export function describeLayerFixtures(title: string, cases: LayerCase[], runs: FixtureRun[]): void {
  describe(title, () => {
    for (const run of runs) {
      describe(`${run.backend} ${run.dtype}`, () => {
        for (const c of cases) {
          it(c.name, () =>
            withBackendAsync(run.backend, async () => {
              const layer = makeLayer(c.layer, { ...c.config, dtype: run.dtype });
              layer.ensureBuilt(c.input.shape);
              layer.setWeights(c.weights.map((w) => blob(w, run.dtype)));
              const x = st.variable(blob(c.input, run.dtype));
              const y = layer.apply(x);
              await assertCloseAsync(y, blob(c.output, run.dtype), run.rtol, run.atol, `${c.name} output`);
              y.mul(blob(c.upstream, run.dtype)).sum().backward();
              await assertCloseAsync(x.grad!, blob(c.gradInput, run.dtype), run.rtol, run.atol, `${c.name} input gradient`);
              for (const [i, w] of layer.weights.entries())
                await assertCloseAsync(w.value.grad!, blob(c.gradWeights[i], run.dtype), run.rtol, run.atol, `${c.name} gradient of ${w.name}`);
            }),
          );
        }
      });
    }
  });
}
