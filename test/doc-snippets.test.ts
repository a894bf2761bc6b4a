// The TypeScript in README.md and docs/guide.md, type-checked as a user's project would: strict,
// skipLibCheck off, against the built package (package.json's exports and dist/*.d.ts) with only
// its runtime dependencies installed beside it: no @types/node, no devDependencies. A snippet
// that stops compiling, or published types that need something a user does not have, fail here.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import ts from 'typescript';

const REPO = new URL('..', import.meta.url).pathname;
const DOCUMENTS = ['README.md', 'docs/guide.md'].filter((f) => existsSync(join(REPO, f)));

/** The ```ts blocks of a Markdown file, with the line each starts on. */
function snippets(file: string): { line: number; code: string }[] {
  const lines = readFileSync(join(REPO, file), 'utf8').split('\n');
  const found: { line: number; code: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i + 1;
    while (++i < lines.length && lines[i].trim() !== '```');
    found.push({ line: start + 1, code: lines.slice(start, i).join('\n') });
  }
  return found;
}

/** A project folder with `strata` installed the way npm would: its files, and its dependencies. */
function userProject(): string {
  const root = mkdtempSync(join(tmpdir(), 'strata-user-'));
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const installed = join(root, 'node_modules', 'strata');
  mkdirSync(installed, { recursive: true });
  cpSync(join(REPO, 'package.json'), join(installed, 'package.json'));
  cpSync(join(REPO, 'dist'), join(installed, 'dist'), { recursive: true });
  for (const dep of Object.keys(pkg.dependencies ?? {})) {
    const target = join(root, 'node_modules', dep);
    mkdirSync(join(target, '..'), { recursive: true });
    symlinkSync(join(REPO, 'node_modules', dep), target, 'dir');
  }
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'user', type: 'module', private: true }));
  return root;
}

describe('documentation snippets', () => {
  const root = userProject();
  after(() => rmSync(root, { recursive: true, force: true }));

  it('every ```ts block of README.md and docs/guide.md compiles in a strict user project without @types/node', () => {
    const files: { path: string; where: string }[] = [];
    for (const doc of DOCUMENTS) {
      snippets(doc).forEach(({ line, code }, i) => {
        // A snippet continues the page's story; without its own import it gets the usual one.
        const source = /^import \* as st from 'strata';/m.test(code) ? code : `import * as st from 'strata';\n${code}`;
        const path = join(root, `${doc.replace(/\W+/g, '-')}-${i + 1}.ts`);
        writeFileSync(path, `${source}\nexport {};\n`);
        files.push({ path, where: `${doc}:${line}` });
      });
    }
    assert.ok(files.length >= 5, `found only ${files.length} snippets`);
    const program = ts.createProgram({
      rootNames: files.map((f) => f.path),
      options: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        // A page's globals (console) without Node's: types: [] keeps @types/node out.
        lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
        types: [],
      },
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => {
      const file = d.file ? (files.find((f) => f.path === d.file!.fileName)?.where ?? d.file.fileName.replace(root, '<user project>')) : '';
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
      return `${file} (+${line}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    assert.deepEqual(problems, []);
  });
});
