// The op conformance table (test/conformance.test.ts, the same source, not a copy) and the PyTorch
// fixtures (test/torch-fixtures.test.ts) inside a real page: esbuild bundles each for the browser
// with node:test, node:assert/strict and node:fs resolved to the in-page stand-ins of
// test/browser/harness/ (readFileSync fetches the fixtures from the page's server) and
// '../src/index.js' to the browser entry (src/browser.ts, where wasm is the default backend), into
// scratch/ under the served root; headless Chromium runs every case there on every backend the
// page has cross-origin isolated (the threaded wasm module), and on wasm once more without
// isolation (no SharedArrayBuffer: one thread). Every case must pass, and on wasm they must be the very cases
// (passed or skipped alike) the file runs on wasm in Node (run here in a child process), so none
// goes missing silently. Also: a 10-epoch MLP fit in the page keeps the wasm backend's memory
// flat. Skipped with a message only where chromium is missing, never in CI.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build, type Plugin } from 'esbuild';
import type { Browser } from 'playwright-core';
import { chromiumMissing, launchChromium, openPage } from './browser/chromium.js';
import pageAssert from './browser/harness/assert.js';
import * as pageTest from './browser/harness/node-test.js';
import { serveStatic, type StaticServer } from './browser/server.js';

const root = new URL('../', import.meta.url).pathname;
const HARNESS = new URL('./browser/harness/', import.meta.url).pathname;
type PageBundle = typeof import('./browser/harness/page.js');
type CaseResult = import('./browser/harness/node-test.js').CaseResult;
const missing = chromiumMissing();

/** Resolves what a bundled test file imports from Node to its in-page stand-in, and the library to the browser entry. */
const inPage: Plugin = {
  name: 'in-page',
  setup(b) {
    b.onResolve({ filter: /^node:test$/ }, () => ({ path: join(HARNESS, 'node-test.ts') }));
    b.onResolve({ filter: /^node:assert(\/strict)?$/ }, () => ({ path: join(HARNESS, 'assert.ts') }));
    b.onResolve({ filter: /^node:fs$/ }, () => ({ path: join(HARNESS, 'fs.ts') }));
    b.onResolve({ filter: /^\.\.\/src\/index\.js$/ }, (args) =>
      args.importer.startsWith(join(root, 'test/')) ? { path: join(root, 'src/browser.ts') } : undefined,
    );
    // A test file's import.meta.url becomes its address on the page's server (for fixtures read relative to it).
    b.onLoad({ filter: /\/test\/[^/]+\.test\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replaceAll(
        'import.meta.url',
        `new URL(${JSON.stringify(`/${relative(root, args.path)}`)}, globalThis.location.href).href`,
      ),
      loader: 'ts',
    }));
  },
};

/** Bundles the page entry with `testFile` (a repository path) registering after it; returns the bundle's path on the server. */
async function bundle(dir: string, testFile: string): Promise<string> {
  const outfile = join(dir, `${basename(testFile, '.ts')}.js`);
  await build({
    stdin: {
      contents: `export * from './test/browser/harness/page.ts';\nimport './${testFile}';\n`,
      resolveDir: root,
      sourcefile: 'browser-conformance-entry.ts',
      loader: 'ts',
    },
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    keepNames: true,
    sourcemap: 'inline',
    plugins: [inPage],
    logLevel: 'error',
  });
  return `/${relative(root, outfile)}`;
}

interface NodeCase {
  /** The suite names and the test's, joined by ' > ' (as the page's runner names them). */
  name: string;
  status: 'passed' | 'failed' | 'skipped';
}

/** The tests `file` runs in the suite `suite` under Node's test runner (only those: the rest are skipped by name), read from its TAP output. */
function nodeCases(file: string, suite: string): Promise<NodeCase[]> {
  return new Promise((resolve, reject) => {
    // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead of printing TAP.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=tap', `--test-name-pattern=^${suite.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, file],
      {
        cwd: root,
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let tap = '';
    child.stdout.on('data', (d) => (tap += d));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(parseTap(tap, file).filter((c) => c.name.startsWith(`${suite} > `)));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/** The leaves of Node's TAP output (tests, not suites), named with their suites'. */
function parseTap(tap: string, file: string): NodeCase[] {
  // '# Subtest: name' opens a test or a suite at its depth (a suite's name prefixes what is
  // below it); the result line, after a suite's contents, closes it.
  const path: string[] = [];
  const all: NodeCase[] = [];
  for (const line of tap.split('\n')) {
    const open = /^((?: {4})*)# Subtest: (.*)$/.exec(line);
    if (open) {
      path.length = open[1].length / 4;
      path.push(open[2].replace(/\\(.)/g, '$1'));
      continue;
    }
    const m = /^((?: {4})*)(not )?ok \d+ - (.*?)(?: # (SKIP|TODO)\b.*)?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    const name = m[3].replace(/\\(.)/g, '$1');
    assert.equal(path[depth], name, `TAP of ${file}: '${line}' closes '${path[depth]}'`);
    all.push({ name: path.slice(0, depth + 1).join(' > '), status: m[4] ? 'skipped' : m[2] ? 'failed' : 'passed' });
  }
  // Suites are closed after what they hold: keep the leaves.
  const leaves = all.filter((c) => !all.some((d) => d.name.startsWith(`${c.name} > `)));
  if (leaves.length === 0) throw new Error(`no tests in the TAP output of ${file}:\n${tap.slice(0, 2000)}`);
  return leaves;
}

/** The test files run in the page, and the name of the suite each runs on the wasm backend. */
const FILES = [
  { file: 'test/conformance.test.ts', wasmSuite: 'conformance on the wasm backend' },
  { file: 'test/torch-fixtures.test.ts', wasmSuite: 'PyTorch fixtures on the wasm backend' },
];

// The stand-ins run in Node too, so they are checked here against what they stand in for.
describe('the in-page stand-ins for node:assert/strict and node:test', () => {
  it('deepEqual, equal, throws and rejects agree with node:assert/strict', async () => {
    const cyclic = (): object => {
      const o: Record<string, unknown> = { a: 1 };
      o.self = o;
      return o;
    };
    class Point {
      constructor(readonly x: number) {}
    }
    const pairs: [unknown, unknown][] = [
      [1, 1],
      [1, '1'],
      [Number.NaN, Number.NaN],
      [0, -0],
      [
        [1, 2, 3],
        [1, 2, 3],
      ],
      [
        [1, 2, 3],
        [1, 2],
      ],
      // A hole is not an undefined.
      [Object.assign(new Array(3), { 0: 1, 2: 3 }), [1, undefined, 3]],
      [
        { a: 1, b: [2] },
        { b: [2], a: 1 },
      ],
      [{ a: 1 }, { a: 1, b: undefined }],
      [{ a: 1 }, new Point(1)],
      [new Point(1), new Point(1)],
      [Object.create(null), {}],
      [new Float32Array([1, 2]), new Float32Array([1, 2])],
      [new Float32Array([1, 2]), new Float64Array([1, 2])],
      [new Float32Array([Number.NaN]), new Float32Array([Number.NaN])],
      [new Float32Array([0]), new Float32Array([-0])],
      [new Int32Array([1, 2]), [1, 2]],
      [new Map([[1, { a: 1 }]]), new Map([[1, { a: 1 }]])],
      [new Map([[1, 2]]), new Map([[1, 3]])],
      [new Set([1, [2]]), new Set([[2], 1])],
      [new Set([1]), new Set(['1'])],
      [new Date(5), new Date(5)],
      [new Date(5), new Date(6)],
      [/a/g, /a/g],
      [/a/g, /a/i],
      [new Error('x'), new Error('x')],
      [new Error('x'), new TypeError('x')],
      [cyclic(), cyclic()],
      [
        [1, [2, [3]]],
        [1, [2, [4]]],
      ],
    ];
    for (const [i, [a, b]] of pairs.entries()) {
      const node = (f: () => void) => {
        try {
          f();
          return true;
        } catch {
          return false;
        }
      };
      const what = `pair ${i}`;
      assert.equal(
        node(() => pageAssert.deepEqual(a, b)),
        node(() => assert.deepEqual(a, b)),
        `deepEqual: ${what}`,
      );
      assert.equal(
        node(() => pageAssert.equal(a, b)),
        node(() => assert.equal(a, b)),
        `equal: ${what}`,
      );
    }
    class MyError extends Error {}
    const throwing = () => {
      throw new MyError('bad thing');
    };
    const expectations: unknown[] = [
      undefined,
      MyError,
      TypeError,
      /bad/,
      /good/,
      { message: 'bad thing' },
      { message: /good/ },
      (e: unknown) => e instanceof MyError,
    ];
    for (const expected of expectations) {
      const outcome = async (f: () => unknown) => {
        try {
          await f();
          return 'ok';
        } catch (e) {
          return (e as Error).name;
        }
      };
      const ours = await outcome(() => pageAssert.throws(throwing, expected as RegExp));
      assert.equal(ours, await outcome(() => assert.throws(throwing, expected as RegExp)), `throws with ${String(expected)}`);
      const rejecting = async () => throwing();
      assert.equal(
        await outcome(() => pageAssert.rejects(rejecting, expected as RegExp)),
        await outcome(() => assert.rejects(rejecting, expected as RegExp)),
        `rejects with ${String(expected)}`,
      );
    }
    assert.throws(() => pageAssert.throws(() => {}), { name: 'AssertionError' });
    assert.throws(() => pageAssert.match('abc', /x/), { name: 'AssertionError' });
    assert.throws(() => pageAssert.ok(0), { name: 'AssertionError' });
    assert.throws(() => pageAssert(0), { name: 'AssertionError' });
  });

  it('the runner runs hooks and tests in order and reports passes, failures and skips', async () => {
    const calls: string[] = [];
    pageTest.describe('self-check', () => {
      pageTest.before(() => void calls.push('before'));
      pageTest.beforeEach(() => void calls.push('beforeEach'));
      pageTest.it('passes', async () => {
        await new Promise((r) => setTimeout(r, 1));
        calls.push('passes');
      });
      pageTest.it('fails', () => pageAssert.equal(1, 2));
      pageTest.it('is skipped', { skip: 'why not' }, () => calls.push('never'));
      pageTest.describe('a skipped suite', { skip: true }, () => {
        pageTest.it('inside it', () => calls.push('never'));
      });
      pageTest.after(() => void calls.push('after'));
    });
    const results = await pageTest.runRegistered((name) => name === 'self-check');
    assert.deepEqual(
      results.map((r) => [r.name, r.status]),
      [
        ['self-check > passes', 'passed'],
        ['self-check > fails', 'failed'],
        ['self-check > is skipped', 'skipped'],
        ['self-check > a skipped suite > inside it', 'skipped'],
      ],
    );
    assert.match(results[1].error ?? '', /AssertionError/);
    assert.equal(results[2].error, 'why not');
    assert.deepEqual(calls, ['before', 'beforeEach', 'passes', 'beforeEach', 'after']);
  });
});

describe('the conformance table in Chromium', { skip: missing ?? false }, () => {
  let isolatedServer: StaticServer;
  let plainServer: StaticServer;
  let browser: Browser;
  let dir: string;
  /** Each file's bundle on the server. */
  const bundles = new Map<string, string>();
  /** Each file's tests under Node, run in child processes while the page runs its own. */
  const inNode = new Map<string, Promise<NodeCase[]>>();
  before(async () => {
    for (const { file, wasmSuite } of FILES) {
      const cases = nodeCases(file, wasmSuite);
      cases.catch(() => {}); // awaited (and reported) by the tests
      inNode.set(file, cases);
    }
    mkdirSync(join(root, 'scratch'), { recursive: true });
    dir = mkdtempSync(join(root, 'scratch', 'browser-conformance-'));
    let urls: string[];
    [isolatedServer, plainServer, browser, urls] = await Promise.all([
      serveStatic(root),
      serveStatic(root, { isolated: false }),
      launchChromium({ strataKernelsOnly: true }),
      Promise.all(FILES.map(({ file }) => bundle(dir, file))),
    ]);
    FILES.forEach(({ file }, i) => bundles.set(file, urls[i]));
  });
  after(async () => {
    await browser?.close();
    await isolatedServer?.close();
    await plainServer?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Two fits: one as a page runs it, where dead tensors come back only when the garbage collector
  // finds them (between tasks, whenever it runs), so the live counts wander and only the
  // WebAssembly memory's size can be held flat; and one that has Chromium collect garbage (over
  // the DevTools protocol) before each epoch's reading, where a tensor still live after it is
  // referenced, so the counts after epoch 10 must equal those after epoch 2 exactly.
  it('a 10-epoch MLP fit on wasm keeps the memory flat: the heap, and the live tensors and bytes after epoch 10 as after epoch 2', async () => {
    const { page, errors } = await openPage(browser, `${isolatedServer.url}/test/browser/blank.html`);
    // tsx compiles this file keeping function names, through a helper the page does not have.
    await page.evaluate('globalThis.__name = (f) => f');
    const cdp = await page.context().newCDPSession(page);
    await page.exposeFunction('collectGarbage', async () => void (await cdp.send('HeapProfiler.collectGarbage')));
    const fit = (collect: boolean) =>
      page.evaluate(
        async ({ url, collect }) => {
          const { st }: PageBundle = await import(url);
          const gc = (globalThis as unknown as { collectGarbage: () => Promise<void> }).collectGarbage;
          st.setBackend('wasm');
          st.setSeed(11);
          const x = st.randomNormal([512, 784]);
          const y = st.tensor(
            Array.from({ length: 512 }, (_, i) => (i * 7) % 10),
            [512],
            'int32',
          );
          const model = st.sequential({
            layers: [st.layers.dense({ units: 64, activation: 'relu', inputShape: [784] }), st.layers.dense({ units: 10, activation: 'softmax' })],
          });
          model.compile({ optimizer: st.optimizers.adam({ learningRate: 1e-3 }), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
          type WasmMemory = { buffers: number; bytes: number; cachedBytes: number; heapBytes: number };
          const epochs: { tensors: number; bytes: number; cachedBytes?: number; heapBytes: number }[] = [];
          const t0 = performance.now();
          const h = await model.fit(x, y, {
            epochs: 10,
            batchSize: 32,
            verbose: 0,
            callbacks: [
              {
                onEpochEnd: async () => {
                  if (collect) {
                    await gc();
                    // The FinalizationRegistry's callbacks run in tasks of their own after the collection.
                    await new Promise((resolve) => setTimeout(resolve, 20));
                  }
                  epochs.push({ ...st.memory().wasm, heapBytes: (st.getBackend().memory() as WasmMemory).heapBytes });
                },
              },
            ],
          });
          return { epochs, loss: h.history.loss as number[], ms: performance.now() - t0, backend: st.getBackend().name };
        },
        { url: bundles.get('test/conformance.test.ts')!, collect },
      );
    for (const collect of [false, true]) {
      const out = await fit(collect);
      const how = collect ? 'collecting garbage before each reading' : 'as a page runs it';
      console.log(
        `MLP 784-64-10, 10 epochs of 16 batches on ${out.backend}, ${how}: ${(out.ms / 1000).toFixed(1)} s, loss ${out.loss[0].toFixed(3)} -> ${out.loss.at(-1)!.toFixed(3)}`,
      );
      for (const [i, e] of out.epochs.entries())
        console.log(`  epoch ${i + 1}: ${e.tensors} tensors, ${e.bytes} live bytes, ${e.cachedBytes} cached, WebAssembly memory ${e.heapBytes}`);
      assert.equal(out.backend, 'wasm');
      assert.equal(out.epochs.length, 10);
      assert.ok(out.loss.at(-1)! < out.loss[0] / 2, `loss ${out.loss[0]} -> ${out.loss.at(-1)}`);
      const [second, last] = [out.epochs[1], out.epochs[9]];
      assert.equal(last.heapBytes, second.heapBytes, `${how}: the WebAssembly memory grew between epoch 2 and epoch 10`);
      if (collect) {
        assert.equal(last.tensors, second.tensors, `${how}: live tensors after epoch 10 vs epoch 2`);
        assert.equal(last.bytes, second.bytes, `${how}: live bytes after epoch 10 vs epoch 2`);
      }
    }
    await page.close();
    assert.deepEqual(errors, []);
  });

  for (const { file, wasmSuite } of FILES)
    for (const isolated of [true, false]) {
      it(`${file}: every case passes in a ${isolated ? 'cross-origin isolated page (threaded wasm)' : 'page without isolation (one wasm thread)'}, on wasm the same cases as in Node`, async () => {
        const server = isolated ? isolatedServer : plainServer;
        const { page, errors } = await openPage(browser, `${server.url}/test/browser/blank.html`);
        // Without isolation only the wasm backend changes (one thread, no SharedArrayBuffer), so
        // that page runs the wasm suite alone; the isolated page runs every backend's.
        const only = isolated ? undefined : wasmSuite;
        const out = await page.evaluate(
          async ([url, only]) => {
            const m: PageBundle = await import(url!);
            const backends = m.st.backends().map((b) => ({ name: b.name, available: b.available, detail: b.detail, reason: b.reason }));
            const t0 = performance.now();
            const results = await m.runRegistered(only === undefined ? undefined : (suite) => suite === only);
            return { isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated, backends, results, ms: performance.now() - t0 };
          },
          [bundles.get(file)!, only] as const,
        );
        await page.close();

        assert.equal(out.isolated, isolated);
        const wasm = out.backends.find((b) => b.name === 'wasm');
        assert.ok(wasm?.available, `wasm unavailable in the page: ${wasm?.reason}`);
        if (isolated) {
          const threads = Number(/(\d+) threads/.exec(wasm.detail ?? '')?.[1]);
          assert.ok(threads >= 2, `wasm detail '${wasm.detail}': not threaded`);
        } else {
          assert.match(wasm.detail ?? '', /1 thread \(no SharedArrayBuffer\)/);
        }

        const count = (rs: CaseResult[], status: CaseResult['status']) => rs.filter((r) => r.status === status).length;
        const suites = [...new Set(out.results.map((r) => r.name.split(' > ')[0]))];
        for (const suite of suites) {
          const rs = out.results.filter((r) => r.name.startsWith(`${suite} > `));
          console.log(
            `${file}, ${isolated ? 'isolated' : 'not isolated'}: ${suite}: ${count(rs, 'passed')} passed, ${count(rs, 'failed')} failed, ${count(rs, 'skipped')} skipped`,
          );
        }
        console.log(
          `${file}, ${isolated ? 'isolated' : 'not isolated'}: ${out.results.length} cases in ${(out.ms / 1000).toFixed(1)} s in the page (wasm: ${wasm.detail})`,
        );
        assert.deepEqual(
          out.results.filter((r) => r.status === 'failed').map((f) => `${f.name}: ${f.error}`),
          [],
        );

        const node = await inNode.get(file)!;
        assert.ok(node.length > 0, `no '${wasmSuite}' under Node`);
        assert.deepEqual(
          node.filter((c) => c.status === 'failed').map((c) => c.name),
          [],
          `${file} fails on wasm under Node`,
        );
        assert.deepEqual(
          out.results.filter((r) => r.name.startsWith(`${wasmSuite} > `)).map((r) => `${r.name}: ${r.status}`),
          node.map((c) => `${c.name}: ${c.status}`),
        );
        assert.deepEqual(errors, []);
      });
    }
});
