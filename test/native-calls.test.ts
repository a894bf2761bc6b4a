// Note [One table for the native calling convention] (native/calls.mjs): the C++ and TypeScript
// sides are generated from one table, and each way they could disagree with it or with each
// other is caught before a kernel runs with the wrong codes or arguments.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { fingerprint, generate, loadTable, normalize, OUTPUTS, staleFiles, type CallTable } from '../scripts/native-calls.mjs';
import * as st from '../src/index.js';
import { checkCallTable } from '../src/backend/native/addon.js';
import { CALL_TABLE, CONV_KIND, DTYPE, OPTIMIZER, UNARY } from '../src/backend/native/calls.gen.js';
import type { NativeBackend } from '../src/backend/native/index.js';
import { withBackend } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const table = await loadTable();
const nativeAvailable = st.backends().some((b) => b.name === 'native' && b.available);

/** A deep copy of the table with `change` applied. */
function changed(change: (t: CallTable) => void): CallTable {
  const copy = structuredClone({ enums: table.enums, groups: table.groups, functions: table.functions, families: table.families }) as CallTable;
  change(copy);
  return copy;
}

const swappedUnary = changed((t) => {
  const v = t.enums.Unary.values;
  [v[0], v[1]] = [v[1], v[0]];
});

describe('the native calling convention', () => {
  it('has its generated files up to date with native/calls.mjs', () => {
    assert.deepEqual(staleFiles(table), [], 'run `node scripts/native-calls.mjs` (the install script does) and commit the result');
  });

  it('notices generated files older than the table', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-calls-'));
    try {
      for (const [file, text] of Object.entries(generate(table))) {
        cpSync(path.join(root, file), path.join(dir, file), { recursive: true });
        writeFileSync(path.join(dir, file), text);
      }
      assert.deepEqual(staleFiles(table, dir), []);
      assert.deepEqual(staleFiles(swappedUnary, dir).sort(), Object.values(OUTPUTS).sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an addon built from another table, naming what differs', () => {
    assert.doesNotThrow(() => checkCallTable({ callTable: () => CALL_TABLE }));
    const built = (t: CallTable) => ({ callTable: () => fingerprint(normalize(t)) });
    assert.throws(() => checkCallTable(built(swappedUnary)), /enum Unary: the addon has \[\["abs","neg"/);
    const extraArgument = changed((t) => {
      t.functions.matmul = [t.functions.matmul[0].replace('dtype: DType', 'dtype: DType, scale: double'), t.functions.matmul[1]];
    });
    assert.throws(() => checkCallTable(built(extraArgument)), /function matmul: .*scale:double/);
    const extraFunction = changed((t) => {
      t.functions.erf = ['x: tensor', 'Handle'];
    });
    assert.throws(() => checkCallTable(built(extraFunction)), /function erf: the addon has it, this code does not/);
    assert.throws(() => checkCallTable({} as never), /built before the table existed/);
  });

  it('loads only an addon whose table is this one', { skip: !nativeAvailable && 'native backend not built' }, () => {
    const backend = withBackend('native', () => st.getBackend()) as NativeBackend;
    assert.equal(backend.addon.callTable(), CALL_TABLE);
  });

  it('makes TypeScript fail to compile when an enum no longer covers its primitives', () => {
    const withoutNot = changed((t) => {
      t.enums.Unary.values = t.enums.Unary.values.filter((v) => v !== 'logicalNot');
    });
    const errorsOf = (text: string) => {
      const file = path.join(root, OUTPUTS.typescript);
      const options: ts.CompilerOptions = {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: [],
      };
      const host = ts.createCompilerHost(options);
      const read = host.getSourceFile.bind(host);
      host.getSourceFile = (name, language, ...rest) =>
        path.resolve(name) === file ? ts.createSourceFile(name, text, language) : read(name, language, ...rest);
      const program = ts.createProgram([file], options, host);
      return ts
        .getPreEmitDiagnostics(program)
        .map((d) => `${d.file ? path.basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    };
    assert.deepEqual(errorsOf(generate(table)[OUTPUTS.typescript]), []);
    const errors = errorsOf(generate(withoutNot)[OUTPUTS.typescript]);
    assert.ok(
      errors.some((e) => e.startsWith('calls.gen.ts') && /'false' does not satisfy the constraint 'true'/.test(e)),
      errors.join('\n'),
    );
  });

  const cxx = spawnSync('g++', ['--version']).status === 0;
  it('makes the C++ build fail when a kernel lacks a case for a new code or a declared name', { skip: !cxx && 'no g++' }, () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-calls-cc-'));
    try {
      const src = path.join(root, 'native', 'src');
      for (const f of readdirSync(src)) cpSync(path.join(src, f), path.join(dir, f));
      const napi = (createRequire(import.meta.url)('node-addon-api') as { include_dir: string }).include_dir;
      const compile = (t: CallTable, file: string) => {
        for (const [out, text] of Object.entries(generate(t)))
          if (out.startsWith('native/src/')) writeFileSync(path.join(dir, path.basename(out)), text);
        return spawnSync(
          'g++',
          [
            '-std=c++17',
            '-fsyntax-only',
            '-Werror=switch',
            `-I${napi}`,
            '-I/usr/include/node',
            '-DNAPI_EXPERIMENTAL',
            '-DNAPI_CPP_EXCEPTIONS',
            path.join(dir, file),
          ],
          { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } },
        );
      };
      assert.equal(compile(table, 'elementwise.cc').status, 0, 'the real table compiles');
      const newUnary = changed((t) => {
        t.enums.Unary.values.push('erf');
        t.enums.Unary.covers = undefined;
      });
      const r = compile(newUnary, 'elementwise.cc');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /enumeration value 'kErf' not handled in switch/);
      const renamed = changed((t) => {
        t.functions.reluGradient = t.functions.reluGrad;
        delete t.functions.reluGrad;
      });
      const r2 = compile(renamed, 'elementwise.cc');
      assert.notEqual(r2.status, 0);
      assert.match(r2.stderr, /reluGrad/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves no kernel of the table undefined in the built addon', {
    skip: (!nativeAvailable || spawnSync('nm', ['--version']).status !== 0) && 'no addon or no nm',
  }, () => {
    const symbols = execFileSync('nm', ['--undefined-only', '--demangle', path.join(root, 'build', 'Release', 'strata_native.node')], {
      encoding: 'utf8',
    });
    assert.deepEqual(
      symbols.split('\n').filter((l) => l.includes('strata::')),
      [],
    );
  });

  it('rejects malformed tables in the generator', () => {
    assert.throws(
      () =>
        generate(
          changed((t) => {
            t.functions.bad = ['x: tensr', 'Handle'];
          }),
        ),
      /unknown type tensr of x/,
    );
    assert.throws(
      () =>
        generate(
          changed((t) => {
            t.functions.bad = ['x: tensor?, n: int', 'Handle'];
          }),
        ),
      /optional arguments must come last/,
    );
    assert.throws(
      () =>
        generate(
          changed((t) => {
            t.functions.bad = ['...nowhere', 'Handle'];
          }),
        ),
      /unknown group nowhere/,
    );
    assert.throws(
      () =>
        generate(
          changed((t) => {
            t.enums.Cell.values.push('lstm');
          }),
        ),
      /enum Cell repeats a value/,
    );
  });

  describe('at run time', { skip: !nativeAvailable && 'native backend not built' }, () => {
    const addon = () => (withBackend('native', () => st.getBackend()) as NativeBackend).addon;
    const handle = () => withBackend('native', () => st.ones([4]).storage as object);

    it('refuses a call with the wrong number of arguments, naming the function', () => {
      assert.throws(
        () => (addon().matmul as (...a: unknown[]) => unknown)(handle(), handle()),
        (e: Error) => e instanceof TypeError && /native matmul: expected 9 arguments, received 2/.test(e.message),
      );
      assert.throws(() => (addon().conv as (...a: unknown[]) => unknown)(CONV_KIND.forward), /native conv: expected 10 to 12 arguments, received 1/);
    });

    it('refuses a code outside its enum and a wrong argument, naming the argument', () => {
      assert.throws(() => addon().unary(99 as typeof UNARY.neg, handle(), DTYPE.float32), /native unary, argument op: not a Unary code: 99/);
      assert.throws(() => addon().unary(UNARY.neg, {} as object, DTYPE.float32), /native unary, argument x/);
      assert.throws(() => addon().random(4, 1, 2, 0, 7 as never, 0, 1), /argument distribution: not a Distribution code: 7/);
    });

    it('refuses optimizer params of the wrong count for the optimizer', () => {
      const h = handle();
      assert.throws(
        () => addon().optimizerUpdate(OPTIMIZER.sgd, h, handle(), [], 4, [0.1, 0]),
        /argument params: wrong number of params for this Optimizer code/,
      );
    });
  });
});
