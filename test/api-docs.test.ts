// The API reference in docs/api/ (TypeDoc's Markdown, see typedoc.json): regenerated into a temp
// folder with warnings as errors, so an exported symbol without a doc comment, a broken {@link}
// or a public signature naming a type the barrel does not export fails here, and compared file
// by file with the committed copy, so a change to the public API or its comments that was not
// followed by `npm run docs` fails too.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';

const REPO = new URL('..', import.meta.url).pathname;
/** Each TypeDoc configuration and the folder its committed output lives in. */
const REFERENCES = [
  { config: 'typedoc.json', committed: join(REPO, 'docs', 'api'), minFiles: 100 },
  { config: 'typedoc.browser.json', committed: join(REPO, 'docs', 'api-browser'), minFiles: 3 },
];

/** Every file under `dir`, as paths relative to it, sorted. */
function files(dir: string): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((name) => {
      const path = join(d, name);
      return statSync(path).isDirectory() ? walk(path) : [relative(dir, path)];
    });
  return walk(dir).sort();
}

for (const { config, committed: COMMITTED, minFiles } of REFERENCES) {
  describe(`API reference (${config})`, () => {
    const out = mkdtempSync(join(tmpdir(), 'strata-api-docs-'));
    after(() => rmSync(out, { recursive: true, force: true }));

    it('TypeDoc reports nothing: every export documented, every link resolved', () => {
      try {
        execFileSync(
          process.execPath,
          [join(REPO, 'node_modules', 'typedoc', 'bin', 'typedoc'), '--options', config, '--out', out, '--treatWarningsAsErrors'],
          {
            cwd: REPO,
            encoding: 'utf8',
            stdio: 'pipe',
            env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
          },
        );
      } catch (e) {
        const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string };
        const problems = `${stdout}${stderr}`
          .split('\n')
          .filter((line) => /warning|error/.test(line))
          .join('\n');
        assert.fail(`TypeDoc failed (document the exports it names; see typedoc.json):\n${problems}`);
      }
    });

    it(`${relative(REPO, COMMITTED)} is what \`npm run docs\` generates from the current sources`, () => {
      const generated = files(out);
      assert.ok(generated.length > minFiles, `TypeDoc wrote only ${generated.length} files`);
      const committed = files(COMMITTED);
      const stale = [
        ...generated.filter((f) => !committed.includes(f)).map((f) => `missing: ${f}`),
        ...committed.filter((f) => !generated.includes(f)).map((f) => `no longer generated: ${f}`),
        ...generated
          .filter((f) => committed.includes(f) && readFileSync(join(out, f), 'utf8') !== readFileSync(join(COMMITTED, f), 'utf8'))
          .map((f) => `differs: ${f}`),
      ];
      assert.deepEqual(stale, [], `${relative(REPO, COMMITTED)} is out of date: run \`npm run docs\` and commit it`);
    });
  });
}
