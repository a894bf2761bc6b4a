// st.onnx.load beyond the operator cases: hostile files (Note [Hostile ONNX files]), the list of
// unsupported operators, channels-last regions, and an imported model that trains and saves.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as st from '../src/index.js';
import { importCommand } from '../src/cli/import.js';
import { messages } from '../src/interop/onnx/schema.js';
import { type Json, encode, floatTensor, int64Tensor, ints, node, valueInfo, values } from './onnx-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-onnx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small NCHW convnet: Conv(3x3, 4 filters) → Relu → MaxPool → Conv → Add(residual) → GlobalAveragePool → Flatten → Gemm(3). */
function convnet(): Uint8Array {
  return encode({
    name: 'small',
    node: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]),
      node('Relu', ['c1'], ['r1']),
      node('MaxPool', ['r1'], ['p1'], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]),
      node('Conv', ['p1', 'w2'], ['c2'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]),
      node('Add', ['c2', 'p1'], ['s']),
      node('GlobalAveragePool', ['s'], ['g']),
      node('Flatten', ['g'], ['f']),
      node('Gemm', ['f', 'wd', 'bd'], ['y'], [{ name: 'transB', type: 2, i: 1 }]),
    ],
    initializer: [
      floatTensor('w1', [4, 2, 3, 3], values(72, 3)),
      floatTensor('b1', [4], [0.1, -0.1, 0.05, 0]),
      floatTensor('w2', [4, 4, 3, 3], values(144, 5)),
      floatTensor('wd', [3, 4], values(12, 7)),
      floatTensor('bd', [3], [0, 0, 0]),
    ],
    input: [valueInfo('x', ['N', 2, 8, 8])],
    output: [valueInfo('y', ['N', 3])],
  });
}

async function rejects(source: string | Uint8Array, pattern: RegExp, kind: new (...a: never[]) => Error = st.FormatError): Promise<void> {
  await assert.rejects(st.onnx.load(source), (e: Error) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, received ${e.constructor.name}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('st.onnx.load: hostile files', () => {
  it('garbage, truncated and empty files are FormatErrors naming the file', async () => {
    const path = join(dir, 'garbage.onnx');
    writeFileSync(
      path,
      Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256),
    );
    await rejects(path, /garbage\.onnx: /);
    const good = convnet();
    const truncated = join(dir, 'truncated.onnx');
    writeFileSync(truncated, good.subarray(0, good.length - 40));
    await rejects(truncated, /truncated\.onnx: /);
    await rejects(new Uint8Array(0), /empty file/);
    await rejects(join(dir, 'missing.onnx'), /missing\.onnx: cannot read the ONNX file \(no such file\)/);
  });

  it('absurd dims, short raw_data, wrong value counts and external data are refused before allocating', async () => {
    const graph = (init: Json) => ({
      node: [node('Add', ['x', 'c'], ['y'])],
      initializer: [init],
      input: [valueInfo('x', [2])],
      output: [valueInfo('y', [2])],
    });
    await rejects(
      encode(graph({ name: 'c', dims: [2 ** 40], dataType: 1, rawData: new Uint8Array(8) })),
      /tensor 'c': dims \[1099511627776\] claim more than/,
    );
    await rejects(
      encode(graph({ name: 'c', dims: [2], dataType: 1, rawData: new Uint8Array(5) })),
      /tensor 'c': dims \[2\] of FLOAT need 8 bytes of raw_data; the file holds 5/,
    );
    await rejects(encode(graph({ name: 'c', dims: [3], dataType: 1, floatData: [1, 2] })), /need 3 values of FLOAT; the file holds 2/);
    await rejects(encode(graph({ name: 'c', dims: [-1], dataType: 1, floatData: [] })), /non-negative integer/);
    await rejects(
      encode(graph({ name: 'c', dims: [2], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: '/etc/passwd' }] })),
      /external file \('\/etc\/passwd'\); external data is not supported/,
    );
    await rejects(encode({ node: [], input: [valueInfo('x', [2 ** 31, 2 ** 31])], output: [] }), /claim more than/);
  });

  it('runaway nesting (graphs inside attributes, 3000 deep) is a FormatError, not a stack overflow', async () => {
    const varint = (n: number) => {
      const out: number[] = [];
      for (; n > 127; n = Math.floor(n / 128)) out.push((n & 127) | 128);
      return [...out, n];
    };
    const field = (num: number, body: number[]) => [(num << 3) | 2, ...varint(body.length), ...body];
    let graph: number[] = [];
    for (let i = 0; i < 3000; i++) graph = field(1, field(5, field(6, graph))); // GraphProto.node → NodeProto.attribute → AttributeProto.g
    await rejects(new Uint8Array(field(7, graph)), /not a valid ONNX model \(protobuf decoding failed: max depth exceeded\)/);
  });

  it('a model with no graph, or an opset outside 1 to 20, is refused', async () => {
    await rejects(messages.model.encode(messages.model.fromObject({ irVersion: 8 })).finish(), /no graph/);
    const graph = { node: [node('Relu', ['x'], ['y'])], input: [valueInfo('x', [2])], output: [valueInfo('y', [2])] };
    await rejects(encode(graph, 99), /opset 99 of the default ONNX domain is not supported/, st.ValueError);
  });
});

describe('st.onnx.load: opset 20', () => {
  it('Gelu, exact and tanh-approximated', async () => {
    const bytes = encode(
      {
        node: [node('Gelu', ['x'], ['a']), node('Gelu', ['x'], ['b'], [{ name: 'approximate', type: 3, s: new TextEncoder().encode('tanh') }])],
        input: [valueInfo('x', [4])],
        output: [valueInfo('a', [4]), valueInfo('b', [4])],
      },
      20,
    );
    const model = await st.onnx.load(bytes);
    const x = st.tensor([-2, -0.5, 0.5, 3]);
    const [a, b] = model.predict(x) as st.Tensor[];
    const exact = [-2, -0.5, 0.5, 3].map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
    const approx = [-2, -0.5, 0.5, 3].map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))));
    (await a.data()).forEach((v, i) => assert.ok(Math.abs(v - exact[i]) < 1e-5, `${v} vs ${exact[i]}`));
    (await b.data()).forEach((v, i) => assert.ok(Math.abs(v - approx[i]) < 1e-5, `${v} vs ${approx[i]}`));
  });
});

/** erf by its series (enough terms for |x| <= 3), for expected values. */
function erf(x: number): number {
  let sum = 0;
  let term = x;
  for (let n = 0; n < 60; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

describe('st.onnx.load: unsupported operators', () => {
  it('lists every unsupported operator with its node and opset, at once', async () => {
    const bytes = encode({
      node: [
        node('Relu', ['x'], ['a']),
        node('NonZero', ['a'], ['b'], [], 'nz'),
        node('Relu', ['b'], ['c']),
        { ...node('MyOp', ['c'], ['y'], [], 'custom'), domain: 'com.example' },
      ],
      input: [valueInfo('x', [2])],
      output: [valueInfo('y', [2])],
    });
    await rejects(
      bytes,
      /2 node\(s\) use operators the ONNX importer does not support \(NonZero, MyOp\): NonZero \(node 'nz', opset 13\); com\.example\.MyOp \(node 'custom', opset \?\)/,
      st.ValueError,
    );
  });
});

describe('st.onnx.load: a small convnet', () => {
  it('takes and returns NCHW tensors, runs its convolutions channels-last, trains and round-trips through save/load', async () => {
    const path = join(dir, 'convnet.onnx');
    writeFileSync(path, convnet());
    const model = await st.onnx.load(path);
    // One transpose into channels-last at the input, one back before Flatten (Note [Channels-last inside, ONNX shapes outside]).
    const transposes = model.layers.filter((l) => l.getConfig().opType === 'Transpose');
    assert.equal(transposes.length, 2);
    // The Gemm's B ([3, 4] in the file, transB=1) is held as [k, n] (Note [Filters held in Strata's layout]).
    const gemm = model.layers.find((l) => l.getConfig().opType === 'Gemm');
    assert.deepEqual(
      gemm?.weights.map((w) => w.value.shape),
      [[4, 3], [3]],
    );
    st.setSeed(1);
    const x = st.randomNormal([16, 2, 8, 8]);
    const y = st.randomNormal([16, 3]);
    const before = model.predict(x) as st.Tensor;
    assert.deepEqual(before.shape, [16, 3]);
    // The same computation in NHWC with Strata's own ops.
    const w1 = st.tensor(values(72, 3), [4, 2, 3, 3]).transpose([2, 3, 1, 0]);
    const w2 = st.tensor(values(144, 5), [4, 4, 3, 3]).transpose([2, 3, 1, 0]);
    const xh = x.transpose([0, 2, 3, 1]);
    const p1 = st.maxPool2d(
      st
        .conv2d(xh, w1, { padding: 'same' })
        .add(st.tensor([0.1, -0.1, 0.05, 0]))
        .relu(),
      { poolSize: 2 },
    );
    const s = st.conv2d(p1, w2, { padding: 'same' }).add(p1);
    const expected = st.matmul(s.mean([1, 2]), st.tensor(values(12, 7), [3, 4]).transpose());
    const err = (await before.sub(expected).abs().max().data())[0];
    assert.ok(err < 1e-5, `max error ${err}`);

    model.compile({ optimizer: st.optimizers.adam({ learningRate: 0.01 }), loss: 'meanSquaredError' });
    const history = await model.fit(x, y, { epochs: 15, batchSize: 8, verbose: 0 });
    const losses = history.history.loss as number[];
    assert.ok(losses[losses.length - 1] < losses[0] * 0.9, `loss ${losses[0]} → ${losses[losses.length - 1]}`);

    const saved = join(dir, 'saved');
    await model.save(saved);
    const loaded = await st.loadModel(saved);
    // strata import writes the same kind of folder.
    const line = await importCommand(path, { out: join(dir, 'imported') }, () => {});
    assert.match(line, /convnet\.onnx: \d+ layers, 235 parameters, inputs \[N, 2, 8, 8\], outputs \[N, 3\]; saved to /);
    assert.equal((await st.loadModel(join(dir, 'imported'))).countParams(), 235);
    const a = await (model.predict(x) as st.Tensor).data();
    const b = await (loaded.predict(x) as st.Tensor).data();
    assert.deepEqual(Array.from(b), Array.from(a));
  });

  it("BatchNormalization's running statistics are non-trainable weights; its scale and bias train", async () => {
    const bytes = encode({
      node: [node('BatchNormalization', ['x', 'scale', 'bias', 'mean', 'var'], ['y'], [{ name: 'epsilon', type: 1, f: 0.001 }])],
      initializer: [
        floatTensor('scale', [2], [1, 2]),
        floatTensor('bias', [2], [0, 1]),
        floatTensor('mean', [2], [0.5, -0.5]),
        floatTensor('var', [2], [4, 0.25]),
      ],
      input: [valueInfo('x', ['N', 2, 3, 3])],
      output: [valueInfo('y', ['N', 2, 3, 3])],
    });
    const model = await st.onnx.load(bytes);
    assert.deepEqual(
      model.trainableWeights.map((w) => w.name),
      ['in1', 'in2'],
    );
    assert.deepEqual(
      model.nonTrainableWeights.map((w) => w.name),
      ['in3', 'in4'],
    );
    const y = (await (model.predict(st.ones([1, 2, 3, 3])) as st.Tensor).data()) as Float32Array;
    assert.ok(Math.abs(y[0] - 0.5 / Math.sqrt(4.001)) < 1e-6 && Math.abs(y[9] - (1 + (2 * 1.5) / Math.sqrt(0.251))) < 1e-5);
  });

  it('computes shapes from a symbolic batch size when the model runs (Note [Shapes the graph computes])', async () => {
    // An LSTM-style initial state: zeros of [N, 4] from Shape(x)[0], added to a projection of x.
    const bytes = encode({
      node: [
        node('Shape', ['x'], ['s']),
        node('Slice', ['s', 'start', 'end'], ['n']),
        node('Concat', ['n', 'four'], ['shape'], [{ name: 'axis', type: 2, i: 0 }]),
        node('ConstantOfShape', ['shape'], ['h0'], [{ name: 'value', type: 4, t: floatTensor('v', [1], [0.5]) }]),
        node('MatMul', ['x', 'w'], ['p']),
        node('Add', ['p', 'h0'], ['y']),
      ],
      initializer: [int64Tensor('start', [0]), int64Tensor('end', [1]), int64Tensor('four', [4]), floatTensor('w', [3, 4], values(12, 11))],
      input: [valueInfo('x', ['N', 3])],
      output: [valueInfo('y', ['N', 4])],
    });
    const model = await st.onnx.load(bytes);
    for (const n of [1, 5]) {
      const x = st.randomNormal([n, 3]);
      const y = model.predict(x) as st.Tensor;
      assert.deepEqual(y.shape, [n, 4]);
      const expected = st.matmul(x, st.tensor(values(12, 11), [3, 4])).add(0.5);
      assert.ok((await y.sub(expected).abs().max().data())[0] < 1e-6);
    }
    const saved = join(dir, 'dynamic');
    await model.save(saved);
    assert.deepEqual(((await st.loadModel(saved)).predict(st.zeros([7, 3])) as st.Tensor).shape, [7, 4]);
  });

  it('reads bytes as well as paths, and shape constants through Shape/Gather/Concat/Reshape', async () => {
    // Exporters' flatten: Reshape(x, Concat(Gather(Shape(x), 0), [-1])), folded at import when the shape is known.
    const bytes = encode({
      node: [
        node('Shape', ['x'], ['s']),
        node('Gather', ['s', 'zero'], ['n'], [{ name: 'axis', type: 2, i: 0 }]),
        node('Unsqueeze', ['n', 'zeroAxis'], ['n1']),
        node('Concat', ['n1', 'minusOne'], ['shape'], [{ name: 'axis', type: 2, i: 0 }]),
        node('Reshape', ['x', 'shape'], ['y']),
      ],
      initializer: [{ name: 'zero', dims: [], dataType: 7, int64Data: [0] }, int64Tensor('zeroAxis', [0]), int64Tensor('minusOne', [-1])],
      input: [valueInfo('x', [2, 3, 4])],
      output: [valueInfo('y', [2, 12])],
    });
    const model = await st.onnx.load(bytes);
    const out = model.predict(st.arange(24).reshape([2, 3, 4])) as st.Tensor;
    assert.deepEqual(out.shape, [2, 12]);
    assert.deepEqual(
      Array.from(await out.data()),
      Array.from({ length: 24 }, (_, i) => i),
    );
  });
});
