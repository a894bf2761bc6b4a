// The parity table (docs/parity.md, scripts/parity/): every tfjs 4.22 op and layer and every name
// of Keras 3's layers, losses, metrics, activations and keras.ops has a Strata counterpart that
// exists, or a status with its reason; the committed page is what the table renders; and the ops
// and losses issue 23 asked for are all there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { buildTable, renderMarkdown, resolve, unusedDecisions } from '../scripts/parity/table.js';

const { sections } = buildTable();
const all = sections.flatMap(({ source, rows }) => rows.map((r) => ({ ...r, id: `${source.prefix}${r.name}` })));

describe('the parity table', () => {
  it('lists every source with its names', () => {
    const counts = Object.fromEntries(sections.map(({ source, rows }) => [source.id, rows.length]));
    for (const [id, n] of Object.entries(counts)) assert.ok(n > 10, `${id} lists ${n} names`);
    assert.ok(counts['tfjs.ops'] > 200 && counts['keras.ops'] > 300, JSON.stringify(counts));
  });

  it('gives every name a counterpart or a reason', () => {
    const missing = all.filter((r) => r.status === null).map((r) => r.id);
    assert.deepEqual(missing, [], `no counterpart and no decision in scripts/parity/decisions*.ts: ${missing.join(', ')}`);
    const unexplained = all.filter((r) => (r.status === 'planned' || r.status === 'left out') && r.note.trim().length < 10).map((r) => r.id);
    assert.deepEqual(unexplained, [], 'planned and left-out names need their reason');
  });

  it('names only counterparts that exist', () => {
    const broken = all
      .filter((r) => (r.status === 'implemented' || r.status === 'alias') && (!r.strata || resolve(r.strata) === undefined))
      .map((r) => `${r.id} -> ${r.strata}`);
    assert.deepEqual(broken, []);
  });

  it('has no decision for a name the sources do not list', () => {
    assert.deepEqual(unusedDecisions(sections), []);
  });

  it('is what docs/parity.md shows (regenerate with `npm run parity`)', () => {
    const page = readFileSync(new URL('../docs/parity.md', import.meta.url), 'utf8');
    assert.ok(page === renderMarkdown(), 'docs/parity.md is stale: run `npm run parity`');
  });
});

describe("issue 23's ops and losses", () => {
  const ops = `tan asin acos atan atan2 sinh cosh asinh acosh atanh erf expm1 mod floorDiv squaredDifference isInf cumsum cumprod einsum
    topk unique reverse range stridedSlice gatherND scatterND tensorScatterUpdate unsortedSegmentSum depthToSpace spaceToBatchND
    batchToSpaceND mirrorPad norm outerProduct multinomial randomUniformInt randomGamma searchSorted lowerBound upperBound bincount
    meshgrid diag fill clipByValue logicalXor step elu leakyRelu selu prelu relu6 softplus concat2d slice3d`.split(/\s+/);
  const losses = `hinge squaredHinge categoricalHinge logCosh poisson cosineSimilarity meanSquaredLogarithmicError
    meanAbsolutePercentageError binaryFocalCrossentropy categoricalFocalCrossentropy ctc dice tversky`.split(/\s+/);

  it('are all exported', () => {
    assert.deepEqual(
      ops.filter((n) => typeof (st as Record<string, unknown>)[n] !== 'function'),
      [],
    );
    assert.deepEqual(
      losses.filter((n) => typeof (st.losses as Record<string, unknown>)[n] !== 'function'),
      [],
    );
  });

  it('show as implemented in the table', () => {
    const tfjs = sections.find((s) => s.source.id === 'tfjs.ops')!.rows;
    const notImplemented = ops.filter((n) => n !== 'softplus').filter((n) => tfjs.find((r) => r.name === n)?.status !== 'implemented');
    assert.deepEqual(notImplemented, []);
  });
});
