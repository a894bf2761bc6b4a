// Every single-operator model of ONNX's own test data (Debian's libonnx-testdata) whose operators
// the importer supports is imported and run on its inputs; its outputs must match the expected
// ones. Prints the pass rate per operator (the README's table comes from this output).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { importModel } from '../src/interop/onnx/build.js';
import { decodeModel, decodeTensor, type OnnxModel } from '../src/interop/onnx/decode.js';
import { handlerOf, isSupported } from '../src/interop/onnx/ops.js';
import { toStrata, type OnnxTensor } from '../src/interop/onnx/tensors.js';
import type { Tensor } from '../src/tensor/tensor.js';
import '../src/index.js';

const ROOT = '/usr/share/libonnx-testdata/data/node';

/** Cases of supported operators that fail, and why (kept short; each is a real gap). */
const KNOWN_FAILURES: Record<string, string> = {
  test_constant: 'a graph without inputs: a Strata model is a function of its inputs',
};

/** Families of known failures, by case name. */
const KNOWN_FAILURE_PATTERNS: [RegExp, string][] = [
  [/STRING/, 'string tensors are not supported'],
  // (the zero-ratio cases pass: their output is the input and their mask all true)
  [/^test_training_dropout(_default)?(_mask)?$/, 'Dropout in training mode with ratio > 0: the expected output holds one seeded random mask'],
];

/**
 * The operators the importer's issue lists: their cases must pass at this rate; failures and
 * unsupported types (Identity of sequences and optionals) count against it.
 * ONNX_TESTDATA_VERBOSE=1 prints the cases that do not pass.
 */
const LISTED = (
  'Conv ConvTranspose Gemm MatMul BatchNormalization Relu LeakyRelu Sigmoid Tanh Softmax LogSoftmax Gelu Erf MaxPool AveragePool ' +
  'GlobalAveragePool Flatten Reshape Transpose Concat Split Slice Gather Unsqueeze Squeeze Add Sub Mul Div Pow Sqrt ReduceMean ReduceSum ' +
  'ReduceMax Pad Resize Clip Dropout Identity Cast Shape ConstantOfShape Constant LSTM GRU LayerNormalization Where Expand'
).split(' ');
/** The issue's goal: at least this share of the listed operators' cases pass. */
const LISTED_RATE = 0.95;

const knownFailure = (name: string) => KNOWN_FAILURES[name] ?? KNOWN_FAILURE_PATTERNS.find(([re]) => re.test(name))?.[1];

type Outcome = { name: string; ops: string; status: 'pass' | 'fail' | 'unsupported'; reason?: string };

const float = (t: OnnxTensor) => t.onnxType === 'FLOAT' || t.onnxType === 'DOUBLE' || t.onnxType === 'FLOAT16';

/**
 * numpy has no bfloat16: the test data stores a BFLOAT16 graph input or output as the UINT16 bits
 * of its values. They are read back as the floats they encode.
 */
function asDeclared(t: OnnxTensor, elemType: string | undefined): OnnxTensor {
  if (elemType !== 'BFLOAT16' || t.onnxType !== 'UINT16') return t;
  const bits = Uint32Array.from(t.data, (b) => b << 16);
  return { ...t, onnxType: 'BFLOAT16', data: new Float32Array(bits.buffer) };
}

async function runCase(dir: string, m: OnnxModel): Promise<void> {
  const data = `${dir}/test_data_set_0`;
  const graphInputs = m.graph.inputs.filter((v) => !m.graph.initializers.some((t) => t.name === v.name));
  const given = graphInputs.map((v, i) => asDeclared(decodeTensor(readFileSync(`${data}/input_${i}.pb`), `input_${i}.pb`), v.elemType));
  // Inputs that the operators read at import time (shapes, axes, pads) become constants, as in
  // exported models; when every input is such (ConstantOfShape's shape), they stay inputs, read on
  // the host when the model runs (Note [Shapes the graph computes]).
  const staticNames = new Set(
    m.graph.nodes.flatMap((n) => (isSupported(n.opType) ? (handlerOf(n.opType, '').statics ?? []).map((i) => n.inputs[i]) : [])),
  );
  if (graphInputs.every((v) => staticNames.has(v.name))) staticNames.clear();
  const constants: Record<string, OnnxTensor> = {};
  const feeds: Tensor[] = [];
  graphInputs.forEach((v, i) => {
    if (staticNames.has(v.name)) constants[v.name] = given[i];
    else feeds.push(toStrata(given[i], v.name));
  });
  const model = await importModel(m, dir, { constants });
  const out = model.apply(feeds.length === 1 ? feeds[0] : feeds) as Tensor | Tensor[];
  const outs = Array.isArray(out) ? out : [out];
  for (let i = 0; i < m.graph.outputs.length; i++) {
    const expected = asDeclared(decodeTensor(readFileSync(`${data}/output_${i}.pb`), `output_${i}.pb`), m.graph.outputs[i].elemType);
    const got = outs[i];
    assert.deepEqual(got.shape, expected.shape, `output ${i} shape`);
    const values = await got.data();
    const tol = float(expected) ? 1e-4 : 0;
    for (let k = 0; k < values.length; k++) {
      const [a, b] = [Number(values[k]), expected.data[k]];
      if (a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
      if (!(Math.abs(a - b) <= tol + tol * Math.abs(b) * 10)) assert.fail(`output ${i}[${k}]: ${a} vs expected ${b}`);
    }
  }
}

describe('ONNX test data (libonnx-testdata)', () => {
  const present = existsSync(ROOT);
  it('runs every case of the supported operators', {
    skip: !present && !process.env.CI && 'libonnx-testdata is not installed (apt-get install libonnx-testdata)',
  }, async () => {
    assert.ok(present, `${ROOT} is missing: CI installs libonnx-testdata`);
    const outcomes: Outcome[] = [];
    for (const name of readdirSync(ROOT).sort()) {
      const dir = `${ROOT}/${name}`;
      if (!existsSync(`${dir}/model.onnx`)) continue;
      let m: OnnxModel;
      try {
        m = decodeModel(readFileSync(`${dir}/model.onnx`), name);
      } catch (e) {
        outcomes.push({ name, ops: '?', status: 'unsupported', reason: (e as Error).message });
        continue;
      }
      const ops = [...new Set(m.graph.nodes.map((n) => n.opType).filter((o) => o !== 'Constant'))];
      const key = ops.length === 1 ? ops[0] : ops.length === 0 ? 'Constant' : `${name.replace(/^test_/, '')} (${ops.length} ops)`;
      const nonTensor = [...m.graph.inputs, ...m.graph.outputs].some((v) => !v.elemType);
      if (nonTensor || !ops.every(isSupported) || m.graph.nodes.some((n) => n.domain !== '' && n.domain !== 'ai.onnx')) {
        outcomes.push({ name, ops: key, status: 'unsupported' });
        continue;
      }
      try {
        await runCase(dir, m);
        outcomes.push({ name, ops: key, status: 'pass' });
      } catch (e) {
        outcomes.push({ name, ops: key, status: 'fail', reason: (e as Error).message.slice(0, 300) });
      }
    }
    const byOp = new Map<string, Outcome[]>();
    for (const o of outcomes) byOp.set(o.ops, [...(byOp.get(o.ops) ?? []), o]);
    const lines = [...byOp.entries()]
      .filter(([, os]) => os.some((o) => o.status !== 'unsupported'))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, os]) => `${op}: ${os.filter((o) => o.status === 'pass').length}/${os.length}`);
    const supported = outcomes.filter((o) => o.status !== 'unsupported');
    const passed = supported.filter((o) => o.status === 'pass').length;
    console.log(`ONNX test data, pass rate per operator (cases of supported operators):\n${lines.join('\n')}`);
    console.log(
      `overall: ${passed}/${supported.length} cases of supported operators pass; ${outcomes.length} cases in all (${outcomes.length - supported.length} use unsupported operators or types)`,
    );
    const listed = outcomes.filter((o) => LISTED.includes(o.ops));
    const listedPassed = listed.filter((o) => o.status === 'pass').length;
    const rate = listedPassed / listed.length;
    console.log(`the issue's ${LISTED.length} operators: ${listedPassed}/${listed.length} cases pass (${(rate * 100).toFixed(1)} %)`);
    if (process.env.ONNX_TESTDATA_VERBOSE) {
      for (const o of listed.filter((o) => o.status !== 'pass')) console.log(`  ${o.name} [${o.status}]: ${o.reason ?? ''}`);
    }
    assert.ok(
      rate >= LISTED_RATE,
      `the issue's operators pass ${(rate * 100).toFixed(1)} % of their cases; at least ${LISTED_RATE * 100} % expected`,
    );
    const unexpected = supported.filter((o) => o.status === 'fail' && !knownFailure(o.name));
    assert.deepEqual(
      unexpected.map((o) => `${o.name}: ${o.reason}`),
      [],
    );
    const fixed = outcomes.filter((o) => o.status === 'pass' && knownFailure(o.name)).map((o) => o.name);
    assert.deepEqual(fixed, [], 'known failures that now pass: remove them from KNOWN_FAILURES');
  });
});
