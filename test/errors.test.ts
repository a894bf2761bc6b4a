import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { throwsWith, withBackend, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, so that
// st.backends() lists them as available.
await st.ready();

describe('bad input raises the documented error class with a message naming what was received', () => {
  it('matmul with mismatched inner dimensions names both shapes', () => {
    throwsWith(
      () => st.matmul(st.zeros([64, 784]), st.zeros([512, 10])),
      st.ShapeError,
      /^matmul: inner dimensions differ: a is \[64, 784\], b is \[512, 10\]$/,
    );
  });

  it('shapes that do not broadcast', () => {
    throwsWith(() => st.add(st.ones([2, 3]), st.ones([4])), st.ShapeError, /add/, /\[2, 3\]/, /\[4\]/);
  });

  it('reshape to a different size', () => {
    throwsWith(() => st.reshape(st.ones([2, 3]), [4, 2]), st.ShapeError, /reshape/, /\[2, 3\]/, /\[4, 2\]/);
  });

  it('ragged nested arrays', () => {
    throwsWith(() => st.tensor([[1, 2], [3]]), st.ShapeError, /ragged/, /\[1\]/);
  });

  it('conv2d channel mismatch and rank', () => {
    throwsWith(() => st.conv2d(st.ones([1, 5, 5, 3]), st.ones([3, 3, 2, 4])), st.ShapeError, /conv2d/, /3 channels/, /\[3, 3, 2, 4\]/);
    throwsWith(() => st.conv2d(st.ones([5, 5, 3]), st.ones([3, 3, 3, 4])), st.ShapeError, /rank 4/, /\[5, 5, 3\]/);
  });

  it('wrong dtypes', () => {
    throwsWith(() => st.gather(st.ones([3]), st.tensor([0.5])), st.DtypeError, /gather/, /int32/, /float32/);
    throwsWith(() => st.conv2d(st.ones([1, 3, 3, 1], 'int32'), st.ones([1, 1, 1, 1])), st.DtypeError, /conv2d/, /int32/);
    throwsWith(() => st.variable(st.ones([2], 'int32')), st.ValueError, /floating/, /int32/);
    throwsWith(() => st.zeros([2], 'float16' as st.DType), st.DtypeError, /float16/);
  });

  // The backends without float64. Nothing here is read, so the synchronous withBackend serves
  // webgpu too; it is listed as available only once st.ready() (at the top) has opened it.
  for (const name of ['native', 'webgpu']) {
    const backend = st.backends().find((b) => b.name === name);
    it(`a dtype the ${name} backend cannot store`, { skip: !backend?.available && `${name} backend unavailable: ${backend?.reason}` }, () => {
      withBackend(name, () => {
        const named = new RegExp(name);
        throwsWith(() => st.tensor([1, 2], [2], 'float64'), st.DtypeError, named, /float64/);
        throwsWith(() => st.zeros([2], 'float64'), st.DtypeError, named, /float64/);
        throwsWith(() => st.randomNormal([2], { dtype: 'float64' }), st.DtypeError, named, /float64/);
      });
    });
  }

  it('unknown option names', () => {
    throwsWith(
      () => st.conv2d(st.ones([1, 4, 4, 1]), st.ones([2, 2, 1, 1]), { stride: 2 } as never),
      st.ValueError,
      /conv2d/,
      /unknown option 'stride'/,
      /strides/,
    );
    throwsWith(() => st.randomNormal([2], { std: 1 } as never), st.ValueError, /unknown option 'std'/);
    throwsWith(
      () => st.losses.binaryCrossentropy(st.ones([2]), st.ones([2]), { from_logits: true } as never),
      st.ValueError,
      /from_logits/,
      /fromLogits/,
    );
  });

  it('bad option values', () => {
    throwsWith(() => st.conv2d(st.ones([1, 4, 4, 1]), st.ones([2, 2, 1, 1]), { padding: 'full' as never }), st.ValueError, /padding/, /"full"/);
    throwsWith(() => st.losses.meanSquaredError(st.ones([2]), st.ones([2]), { reduction: 'avg' as never }), st.ValueError, /reduction/, /avg/);
    throwsWith(() => st.sum(st.ones([2, 3]), 2), st.ValueError, /axis/, /2/);
  });

  it('backward of a non-scalar without a seed', () => {
    const y = st.variable(st.ones([4])).mul(2);
    throwsWith(() => y.backward(), st.ValueError, /non-scalar/, /\[4\]/);
  });

  it('item() on a many-element tensor', () => {
    throwsWith(() => st.ones([2, 2]).item(), st.ValueError, /item/, /\[2, 2\]/, /4 elements/);
  });

  it('out-of-range gather indices fail at the call, not inside a kernel', () => {
    throwsWith(() => st.gather(st.ones([3, 2]), st.tensor([0, 3], [2], 'int32')), st.ValueError, /index 3/, /size 3/);
  });

  it('a disposed tensor', () => {
    const t = st.ones([2]);
    t.dispose();
    throwsWith(() => t.add(1), st.ValueError, /dispose/, /\[2\]/);
  });

  it('loss shape mismatch', () => {
    throwsWith(() => st.losses.meanSquaredError(st.ones([4, 3]), st.ones([4, 2])), st.ShapeError, /yTrue is \[4, 3\]/, /yPred is \[4, 2\]/);
    throwsWith(() => st.losses.sparseCategoricalCrossentropy(st.tensor([1, 2], [2], 'int32'), st.ones([3, 5])), st.ShapeError, /\[2\]/, /\[3, 5\]/);
  });
});

// Per backend: a backend's kernels (a GPU shader compiler's float rules, say) could bring NaN or
// Infinity where the formulas give none.
const BACKENDS = st
  .backends()
  .filter((b) => b.available)
  .map((b) => b.name);
for (const backend of BACKENDS) {
  describe(`no silent NaN the inputs did not call for, on the ${backend} backend`, () => {
    it('softmax, logSoftmax and logSumExp of huge logits stay finite', () =>
      withBackendAsync(backend, async () => {
        const x = st.tensor([
          [1000, 0, -1000],
          [-1e30, 5, 1e30],
        ]);
        for (const y of [st.softmax(x), st.logSoftmax(x), st.logSumExp(x, -1)]) {
          assert.ok(Array.from(await y.data()).every(Number.isFinite), y.toString());
        }
      }));

    it('cross-entropy from probabilities of exactly 0 and 1 is finite, with finite gradients', () =>
      withBackendAsync(backend, async () => {
        const p = st.variable(
          st.tensor([
            [0, 1],
            [1, 0],
          ]),
        );
        const loss = st.losses.binaryCrossentropy(
          st.tensor([
            [1, 0],
            [1, 0],
          ]),
          p,
        );
        loss.backward();
        assert.ok(Number.isFinite((await loss.data())[0]));
        assert.ok(Array.from(await p.grad!.data()).every(Number.isFinite));
      }));

    it('the gradient of pow at a zero base is finite', () =>
      withBackendAsync(backend, async () => {
        const b = st.variable(st.tensor([2, 3]));
        st.pow(st.tensor([0, 0]), b)
          .sum()
          .backward();
        assert.deepEqual(Array.from(await b.grad!.data()), [0, 0]);
      }));

    it('sigmoid saturates instead of overflowing', () =>
      withBackendAsync(backend, async () => {
        assert.deepEqual(Array.from(await st.sigmoid(st.tensor([-1000, 1000])).data()), [0, 1]);
      }));
  });
}
