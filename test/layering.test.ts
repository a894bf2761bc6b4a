// The layers of docs/architecture.md, checked: every import in src/ (type-only ones too) points to
// a folder of a lower layer or to a peer of the same layer without a cycle, no file imports
// itself back through others, and nothing below the public barrel calls a Tensor method that
// only src/tensor-methods.ts installs (it is loaded by src/index.ts, so code that a test or a
// bundler reaches without the barrel would find the method missing).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const SRC = new URL('../src/', import.meta.url).pathname;

/** Each folder (or top-level file) of src/ and its layer: imports may only point to lower or equal layers. */
const LAYERS: Record<string, number> = {
  core: 0,
  backend: 1,
  tensor: 2,
  ops: 3,
  autograd: 4,
  io: 5,
  data: 5,
  nn: 5,
  optimizers: 5,
  metrics: 5,
  callbacks: 5,
  // The tape drawn as a graph (DOT, and SVG laid out by Graphviz in WASM): it reads tensors' nodes only.
  graph: 5,
  // Collectives and gradient buckets of data-parallel training; MPI itself is installed by node/.
  distributed: 5,
  models: 6,
  applications: 7,
  // Looking inside trained models (saliency, DeepDream): gradients with respect to inputs.
  vis: 7,
  // Converters at the edge (ONNX import): they build ordinary models from layers.
  interop: 7,
  'memory.ts': 7,
  'profile.ts': 7,
  'tensor-methods.ts': 7,
  'api.ts': 8,
  node: 9,
  web: 9,
  'index.ts': 10,
  'browser.ts': 10,
  cli: 11,
  // The pages strata serve serves: bundled for browsers, so they reach the library through browser.ts.
  pages: 11,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /^\s*(?:import|export)\b[^'";]*?\bfrom\s+['"](\.[^'"]+)['"]|^\s*import\s+['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/gm;

/** Relative imports of every file under src/, as paths relative to src/ (type-only ones included). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file);
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(from), m[1] ?? m[2] ?? m[3])).replace(/\.js$/, '.ts'));
    graph.set(from, targets);
  }
  return graph;
}

const unitOf = (path: string) => path.split('/')[0];

describe('layering', () => {
  const graph = importGraph();

  it('every folder of src/ has a layer', () => {
    const units = new Set([...graph.keys()].map(unitOf));
    assert.deepEqual(
      [...units].filter((u) => !(u in LAYERS)),
      [],
    );
  });

  it('no import points up a layer', () => {
    const upward: string[] = [];
    for (const [from, targets] of graph) {
      for (const to of targets) {
        if (LAYERS[unitOf(to)] > LAYERS[unitOf(from)]) upward.push(`${from} imports ${to} (layer ${LAYERS[unitOf(from)]} -> ${LAYERS[unitOf(to)]})`);
      }
    }
    assert.deepEqual(upward, []);
  });

  /** Cycles in a graph, as lists of nodes (Tarjan's strongly connected components of size > 1). */
  function cycles(edges: Map<string, Set<string>>): string[][] {
    const index = new Map<string, number>(),
      low = new Map<string, number>(),
      stack: string[] = [],
      onStack = new Set<string>();
    const found: string[][] = [];
    let next = 0;
    const visit = (v: string) => {
      index.set(v, next);
      low.set(v, next++);
      stack.push(v);
      onStack.add(v);
      for (const w of edges.get(v) ?? []) {
        if (!index.has(w)) {
          visit(w);
          low.set(v, Math.min(low.get(v)!, low.get(w)!));
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
      if (low.get(v) === index.get(v)) {
        const component: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          component.push(w);
        } while (w !== v);
        if (component.length > 1) found.push(component.sort());
      }
    };
    for (const v of edges.keys()) if (!index.has(v)) visit(v);
    return found;
  }

  it('folders of the same layer do not import each other in a cycle', () => {
    const edges = new Map<string, Set<string>>();
    for (const [from, targets] of graph) {
      for (const to of targets) {
        if (unitOf(from) !== unitOf(to)) (edges.get(unitOf(from)) ?? edges.set(unitOf(from), new Set()).get(unitOf(from))!).add(unitOf(to));
      }
    }
    assert.deepEqual(cycles(edges), []);
  });

  it('no file imports itself back through other files', () => {
    const edges = new Map([...graph].map(([from, targets]) => [from, new Set(targets)]));
    assert.deepEqual(cycles(edges), []);
  });

  it('below the barrel, no code calls a Tensor method that src/tensor-methods.ts installs', () => {
    const config = ts.getParsedCommandLineOfConfigFile(
      join(SRC, '../tsconfig.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
    )!;
    const program = ts.createProgram({ rootNames: config.fileNames.filter((f) => f.startsWith(SRC)), options: config.options });
    const checker = program.getTypeChecker();
    const installer = join(SRC, 'tensor-methods.ts');
    const uses: string[] = [];
    for (const source of program.getSourceFiles()) {
      const file = relative(SRC, source.fileName);
      // The barrel's users (the command line) load the methods with it.
      if (file.startsWith('..') || source.fileName === installer || LAYERS[unitOf(file)] >= LAYERS['index.ts']) continue;
      const visit = (node: ts.Node): void => {
        if (ts.isPropertyAccessExpression(node)) {
          const declaration = checker.getSymbolAtLocation(node.name)?.declarations?.[0];
          if (declaration && declaration.getSourceFile().fileName === installer) {
            uses.push(`${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1} .${node.name.text}()`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    assert.deepEqual(uses, []);
  });
});
