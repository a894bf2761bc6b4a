// st.graph: the tape drawn as DOT (checked node by node and edge by edge for the course's
// x*y + 5*y + 5) and as SVG laid out by Graphviz (WASM).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { withBackend } from './helpers.js';

interface ParsedDot {
  /** id -> [class, label] */
  nodes: Map<string, [string, string]>;
  /** "from -> to : label" in the direction the value or gradient flows (dir=back edges turned round). */
  edges: string[];
}

/** Reads the nodes and edges toDot writes (one statement a line). */
function parseDot(dot: string): ParsedDot {
  const nodes = new Map<string, [string, string]>();
  const edges: string[] = [];
  for (const line of dot.split('\n')) {
    const node = /^ {2}(\w+) \[label="((?:[^"\\]|\\.)*)", class=(\w+),/.exec(line);
    if (node) nodes.set(node[1], [node[3], node[2].replace(/\\n/g, '\n')]);
    const edge = /^ {2}(\w+) -> (\w+) \[(.*)\];$/.exec(line);
    if (edge) {
      const back = edge[3].includes('dir=back');
      const label = /label="([^"]*)"/.exec(edge[3])?.[1] ?? '';
      const [from, to] = back ? [edge[2], edge[1]] : [edge[1], edge[2]];
      edges.push(`${from} -> ${to} : ${label}`);
    }
  }
  return { nodes, edges };
}

/** The edges with node ids replaced by `class:label`, sorted: the structure without the numbering. */
function structure(parsed: ParsedDot): string[] {
  const name = (id: string) => {
    const n = parsed.nodes.get(id);
    assert.ok(n, `edge names an undeclared node ${id}`);
    return `${n[0]}:${n[1].replace(/\n/g, ' ')}`;
  };
  return parsed.edges
    .map((e) => {
      const [ends, label] = e.split(' : ');
      const [from, to] = ends.split(' -> ');
      return `${name(from)} -> ${name(to)} [${label}]`;
    })
    .sort();
}

function courseExample() {
  const x = st.variable(st.tensor(2));
  const y = st.variable(st.tensor(3));
  const z = st.add(st.add(st.mul(x, y), st.mul(5, y)), 5);
  return { x, y, z };
}

describe('graph.toDot', () => {
  it("draws the course's x*y + 5*y + 5: two variables, two scalar constants, two muls, two adds", () => {
    const { x, y, z } = courseExample();
    const dot = st.graph.toDot(z, { names: { x, y, z } });
    assert.match(dot, /^digraph strata \{\n {2}rankdir=TB;/);
    const parsed = parseDot(dot);
    assert.deepEqual([...parsed.nodes.values()].map(([kind, label]) => `${kind}:${label}`).sort(), [
      'constant:5',
      'constant:5',
      'op:add',
      'op:add',
      'op:mul',
      'op:mul',
      'output:z',
      'variable:x',
      'variable:y',
    ]);
    assert.deepEqual(structure(parsed), [
      'constant:5 -> op:add [[]]',
      'constant:5 -> op:mul [[]]',
      'op:add -> op:add [[]]',
      'op:add -> output:z [[]]',
      'op:mul -> op:add [[]]',
      'op:mul -> op:add [[]]',
      'variable:x -> op:mul [[]]',
      'variable:y -> op:mul [[]]',
      'variable:y -> op:mul [[]]',
    ]);
    // The ids tie it together: y feeds both muls, each constant one op, and the two muls the first add.
    const edges = parsed.edges;
    const idOf = (kind: string, label: string) => [...parsed.nodes].filter(([, v]) => v[0] === kind && v[1] === label).map(([id]) => id);
    const [yId] = idOf('variable', 'y');
    const [xId] = idOf('variable', 'x');
    const muls = idOf('op', 'mul');
    assert.deepEqual(
      edges
        .filter((e) => e.startsWith(`${yId} -> `))
        .map((e) => e.split(' ')[2])
        .sort(),
      [...muls].sort(),
    );
    const xMul = edges.find((e) => e.startsWith(`${xId} -> `))?.split(' ')[2];
    const adds = idOf('op', 'add');
    const firstAdd = adds.find((a) => muls.every((m) => edges.includes(`${m} -> ${a} : []`)));
    assert.ok(firstAdd && xMul, 'both products feed one add');
    const lastAdd = adds.find((a) => a !== firstAdd) as string;
    assert.ok(edges.includes(`${firstAdd} -> ${lastAdd} : []`));
    assert.ok(edges.includes(`${lastAdd} -> out : []`));
    const constantTargets = idOf('constant', '5').map((c) => edges.find((e) => e.startsWith(`${c} -> `))?.split(' ')[2]);
    assert.deepEqual(constantTargets.sort(), [muls.find((m) => m !== xMul), lastAdd].sort());
  });

  it('with gradients, draws one backward node per primitive flowing back to each variable', () => {
    const { x, y, z } = courseExample();
    const parsed = parseDot(st.graph.toDot(z, { names: { x, y, z }, gradients: true }));
    const backward = structure(parsed).filter((e) => !e.startsWith('variable:') && !e.startsWith('constant:') && !e.startsWith('op:'));
    assert.deepEqual(backward, [
      'backward:add backward -> backward:add backward [[]]',
      'backward:add backward -> backward:mul backward [[]]',
      'backward:add backward -> backward:mul backward [[]]',
      'backward:mul backward -> gradient:∂z/∂x [[]]',
      'backward:mul backward -> gradient:∂z/∂y [[]]',
      'backward:mul backward -> gradient:∂z/∂y [[]]',
      'output:z -> seed:∂z/∂z (ones) []',
      'seed:∂z/∂z (ones) -> backward:add backward [[]]',
    ]);
    // ∂z/∂y adds up two contributions (y feeds both products); ∂z/∂x has one, from the x*y product.
    const id = (label: string) => [...parsed.nodes].find(([, v]) => v[1] === label)?.[0];
    const into = (target: string | undefined) => parsed.edges.filter((e) => e.split(' : ')[0].endsWith(`-> ${target}`));
    assert.equal(into(id('∂z/∂y')).length, 2);
    assert.equal(into(id('∂z/∂x')).length, 1);
    assert.ok(into(id('∂z/∂y')).some((e) => e.startsWith(into(id('∂z/∂x'))[0].split(' ')[0])));
    // The constants get no gradient: no red edge leaves the backward pass towards them.
    assert.equal(parsed.edges.filter((e) => e.includes('-> c')).length, 0);
  });

  it('labels edges with shapes, unnamed leaves with shape and dtype, and primitives with their attributes', () => {
    const w = st.variable(st.randomNormal([3, 2]));
    const a = st.tensor([[1, 2, 3]]);
    const loss = st.sum(st.square(st.matmul(a, w)), 1);
    const parsed = parseDot(st.graph.toDot(loss, { names: [{ path: 'dense/kernel', value: w }] }));
    // The tape as recorded: matmul is batched (reshapes around it; the constant's reshape is not
    // recorded, since no variable contributed to it) and square is mul(t, t), two edges from one node.
    assert.deepEqual(structure(parsed), [
      'constant:[1, 1, 3] float32 -> op:matmul [[1, 1, 3]]',
      'op:matmul -> op:reshape shape=[1,2] [[1, 1, 2]]',
      'op:mul -> op:sum axes=[1] [[1, 2]]',
      'op:reshape shape=[1,2] -> op:mul [[1, 2]]',
      'op:reshape shape=[1,2] -> op:mul [[1, 2]]',
      'op:reshape shape=[1,3,2] -> op:matmul [[1, 3, 2]]',
      'op:sum axes=[1] -> output:output [1] float32 [[1]]',
      'variable:dense/kernel -> op:reshape shape=[1,3,2] [[3, 2]]',
    ]);
  });

  it('draws a model loss through its layers, naming the weights from model.weights', () => {
    const model = st.sequential({ layers: [st.layers.dense({ units: 4, inputShape: [3], activation: 'relu' }), st.layers.dense({ units: 2 })] });
    const xs = st.randomNormal([5, 3]);
    const loss = st.mean(st.square(model.apply(xs) as st.Tensor));
    const dot = st.graph.toDot(loss, { names: model.weights.map((wt) => ({ path: wt.path, value: wt.value })), gradients: true, direction: 'LR' });
    assert.match(dot, /rankdir=LR;/);
    const parsed = parseDot(dot);
    const variables = [...parsed.nodes.values()].filter(([k]) => k === 'variable').map(([, l]) => l);
    assert.deepEqual(variables.sort(), model.weights.map((wt) => wt.path).sort());
    const gradients = [...parsed.nodes.values()].filter(([k]) => k === 'gradient').map(([, l]) => l);
    assert.deepEqual(gradients.sort(), model.weights.map((wt) => `∂out/∂${wt.path}`).sort());
    // Every primitive that a weight depends on has its backward node.
    const ops = [...parsed.nodes.values()].filter(([k]) => k === 'op').length;
    const backward = [...parsed.nodes.values()].filter(([k]) => k === 'backward').length;
    assert.equal(backward, ops);
  });

  it('refuses a tensor without history and bad options, saying what was expected', () => {
    const v = st.variable(st.tensor([1, 2]));
    assert.throws(() => st.graph.toDot(v), /graph\.toDot: the tensor \[2\] float32 has no recorded history to draw: it is a variable itself/);
    assert.throws(() => st.graph.toDot(st.tensor([1, 2]).add(1)), /no recorded history to draw: it is a constant/);
    assert.throws(() => st.graph.toDot(st.noGrad(() => v.mul(2))), /no recorded history/);
    assert.throws(() => st.graph.toDot(3 as unknown as st.Tensor), /graph\.toDot: expected a Tensor computed from variables; received 3/);
    const y = v.mul(2);
    assert.throws(() => st.graph.toDot(y, { gradient: true } as never), /unknown option 'gradient'; expected one of: names, gradients, direction/);
    assert.throws(() => st.graph.toDot(y, { gradients: 'yes' } as never), /gradients must be true or false; received "yes"/);
    assert.throws(() => st.graph.toDot(y, { direction: 'BT' } as never), /direction must be one of 'TB', 'LR'; received "BT"/);
    assert.throws(() => st.graph.toDot(y, { names: { v: 1 } } as never), /names must map each name to a Tensor; 'v' is 1/);
    assert.throws(() => st.graph.toDot(y, { names: [v] } as never), /a list of names must hold \{path, value\} pairs/);
    assert.throws(() => st.graph.toDot(y, 'LR' as never), /options must be an object/);
  });
});

// The graph reads only the tape; the one value it reads, a scalar constant's, comes from a
// synchronous read or, on a GPU backend, from the copy the backend kept of what it uploaded.
await st.ready();
describe('graph.toDot on every backend', () => {
  const reference = (() => {
    const { x, y, z } = withBackend('reference', courseExample);
    return st.graph.toDot(z, { names: { x, y, z }, gradients: true });
  })();
  for (const backend of st.backends()) {
    it(`draws the same graph on ${backend.name}`, { skip: backend.available ? false : `unavailable: ${backend.reason}` }, async () => {
      const { x, y, z } = withBackend(backend.name, courseExample);
      assert.equal(z.backend.name, backend.name);
      const options = { names: { x, y, z }, gradients: true };
      // toDot cannot wait for a GPU read: there the constants show their dtype instead of 5.
      const expected = z.backend.readSync === false ? reference.replaceAll('label="5"', 'label="scalar float32"') : reference;
      assert.equal(st.graph.toDot(z, options), expected);
      // toSvg awaits the values, so every backend's picture shows them.
      const svg = await st.graph.toSvg(z, options);
      assert.equal(svg.match(/>5<\/text>/g)?.length, 2, 'both constants drawn as 5');
    });
  }
});

describe('graph.toSvg', () => {
  it('lays the graph out with Graphviz and returns an SVG document with every node', async () => {
    const { x, y, z } = courseExample();
    const svg = await st.graph.toSvg(z, { names: { x, y, z }, gradients: true });
    assert.match(svg, /<svg[^>]+width="\d+pt" height="\d+pt"/);
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    const count = (cls: string) => (svg.match(new RegExp(`<g id="node\\d+" class="node ${cls}"`, 'g')) ?? []).length;
    assert.deepEqual([count('variable'), count('constant'), count('op'), count('output')], [2, 2, 4, 1]);
    assert.deepEqual([count('seed'), count('backward'), count('gradient')], [1, 4, 2]);
    assert.equal((svg.match(/<g id="edge\d+" class="edge"/g) ?? []).length, 9 + 8);
    for (const text of ['mul backward', '∂z/∂x']) assert.ok(svg.includes(text), text);
    // Laid out, not just wrapped: the nodes have coordinates.
    assert.match(svg, /<ellipse [^>]*cx="[\d.]+" cy="-?[\d.]+"/);
  });

  it('refuses before loading Graphviz', async () => {
    await assert.rejects(st.graph.toSvg(st.tensor(1)), /graph\.toSvg: the tensor \[\] float32 has no recorded history/);
  });
});
