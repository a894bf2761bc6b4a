// Hostile CSV files (issue 22, item 4): long lines must be read in one pass, and a line past
// st.getReadLimits().maxCsvLineBytes refused with the file, the line and how to raise the limit.
// The large cases run in a child process (csv-child.ts) under a deadline, so that a reader that
// hangs inside its synchronous header read fails the test instead of stalling the suite.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as st from '../../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'strata-hostile-csv-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Runs one case of csv-child.ts, killed after `seconds`: far above what it takes, far below a quadratic reader's hours. */
// biome-ignore lint/suspicious/noExplicitAny: the child's JSON report, read field by field by each case
function inChild(name: string, seconds: number): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(here, 'csv-child.ts'), name, dir],
      { cwd: root, timeout: seconds * 1000, killSignal: 'SIGKILL', maxBuffer: 2 ** 20 },
      (error, stdout, stderr) => {
        if (error) {
          const why = (error as { killed?: boolean }).killed ? `did not finish within ${seconds} s` : `failed: ${stderr.trim()}`;
          reject(new Error(`csv-child.ts ${name} ${why}`));
          return;
        }
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      },
    );
  });
}

/** Runs `f` with the line ceiling lowered to `bytes` (read on each pass, so the pass goes inside). */
async function withLineLimit<T>(bytes: number, f: () => Promise<T>): Promise<T> {
  const previous = st.setReadLimits({ maxCsvLineBytes: bytes });
  try {
    return await f();
  } finally {
    st.setReadLimits(previous);
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const tooLong = (path: string, line: number, limit: number) =>
  new RegExp(
    `^loadCsv: '${escape(path)}' line ${line} is longer than ${limit} bytes, the limit on a CSV line \\(maxCsvLineBytes\\); ` +
      `if the file is trusted, raise it with st\\.setReadLimits\\(\\{ maxCsvLineBytes: n \\}\\)$`,
  );

test('a header of 10^5 columns is read in one pass', async () => {
  const r = await inChild('wide', 60);
  assert.equal(r.ok, true, r.message);
  assert.equal(r.columns, 100_000);
  assert.equal(r.rows, 2);
  assert.deepEqual(r.shape, [99_999]);
  const value = (row: number, column: number) => (column * 7 + row) % 1000; // as csv-child.ts writes them
  assert.deepEqual(r.ys, [value(0, 99_999), value(1, 99_999)]);
  assert.deepEqual(
    r.samples,
    [0, 1].map((row) => [0, 1, 50_001, 99_998].map((c) => value(row, c))),
  );
});

test('one 50 MB line, below a raised ceiling, is read at the call and streamed', async () => {
  const r = await inChild('longLine', 60);
  assert.equal(r.ok, true, r.message);
  assert.equal(r.rows, 1);
  assert.equal(r.fields, 6_250_000);
  assert.deepEqual(r.samples, [1_000_000, 1_000_999, 1_000_000, 1_000_999]);
});

test('a 15 MB header of quoted names with line breaks and delimiters inside parses once', async () => {
  const r = await inChild('quotedHeader', 60);
  assert.equal(r.ok, true, r.message);
  assert.equal(r.columns, 60_000);
  assert.ok(r.bytes > 15e6);
  assert.equal(r.namesMatch, true);
  assert.deepEqual(r.rows, [[99, 0]]);
});

test('lines past the default ceiling are refused, at the call for the header and on the pass for a row', async () => {
  const r = await inChild('defaultLimit', 60);
  assert.equal(r.ok, true, r.message);
  assert.equal(r.limit, 16 * 2 ** 20);
  assert.equal(r.atCall?.name, 'FormatError');
  assert.match(r.atCall.message, tooLong(r.header, 1, r.limit));
  assert.equal(r.onPass?.name, 'FormatError');
  assert.match(r.onPass.message, tooLong(r.row, 3, r.limit));
  assert.deepEqual(r.seen, [1], 'the rows before the long one come out');
});

test('a lowered ceiling: the header line is measured with its quotes and delimiters, after a BOM and blank lines', async () => {
  // 100 bytes of fields, 120 with the quotes and commas: refused at a limit of 110.
  const fields = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(10, 'x'));
  const header = fields.map((f) => `"${f}"`).join(',');
  assert.equal(header.length, 129);
  const path = write('limit-header.csv', `\uFEFF\r\n\n${header}\n${fields.map(() => 1).join(',')}\n`);
  await withLineLimit(128, async () => {
    assert.throws(() => st.data.loadCsv(path), { name: 'FormatError', message: tooLong(path, 3, 128) });
    assert.throws(() => st.data.csvColumnNames(path), { name: 'FormatError', message: tooLong(path, 3, 128) });
  });
  await withLineLimit(129, async () => {
    assert.deepEqual(st.data.csvColumnNames(path), fields);
    assert.equal((await st.data.loadCsv(path).toArray()).length, 1);
  });
});

test('a lowered ceiling: a long row is refused on the pass with its line', async () => {
  const path = write('limit-row.csv', `a,b\n1,2\n\n3,${'4'.repeat(300)}\n5,6\n`);
  await withLineLimit(200, async () => {
    const ds = st.data.loadCsv(path); // the header is short: nothing refused at the call
    await assert.rejects(() => ds.toArray(), { name: 'FormatError', message: tooLong(path, 4, 200) });
  });
  // The ceiling in force when a pass reads the file decides.
  assert.equal((await st.data.loadCsv(path).toArray()).length, 3);
});

test("quoted line breaks and CRLF across the reader's 64 KB chunks still parse", async () => {
  // The first record's end and its quoted line breaks fall on both sides of chunk boundaries.
  for (const at of [65_533, 65_534, 65_535, 65_536, 65_537]) {
    const first = 'a'.repeat(at - 4);
    const path = write(`chunks-${at}.csv`, `"${first}\r\n",b\r\n"1\n2",3\r\n4,"5"\r\n`);
    assert.deepEqual(st.data.csvColumnNames(path), [`${first}\r\n`, 'b']);
    await assert.rejects(() => st.data.loadCsv(path).toArray(), { name: 'FormatError', message: /expected a number; received "1\\n2"$/ });
    assert.deepEqual(
      (await st.data.loadCsv(path, { columns: [1] }).toArray()).map((x) => x.item()),
      [3, 5],
    );
  }
  // A first record that never closes its quote is a FormatError on line 1, not a wait for more.
  const open = write('open-header.csv', `a,"b\n${'1,2\n'.repeat(30_000)}`);
  assert.throws(() => st.data.loadCsv(open), { name: 'FormatError', message: new RegExp(`^loadCsv: '${escape(open)}' line 1: .*Quote Not Closed`) });
  // Only line breaks: an empty file.
  assert.throws(() => st.data.loadCsv(write('breaks.csv', '\r\n\n\r')), { name: 'FormatError', message: /is empty; expected a header on line 1/ });
});

test('an unknown column lists the first names only, each cut short', () => {
  const names = Array.from({ length: 30 }, (_, i) => (i === 1 ? 'n'.repeat(1000) : `c${i}`));
  const path = write('many-names.csv', `${names.join(',')}\n`);
  assert.throws(() => st.data.loadCsv(path, { labelColumn: 'zz' }), {
    name: 'ValueError',
    message:
      `loadCsv: labelColumn 'zz' is not a column of '${path}'; its columns are: c0, ${'n'.repeat(60)}..., ` +
      `${names.slice(2, 20).join(', ')}, ... (30 in all)`,
  });
});

test('a file gone between the call and the pass rejects the pass instead of ending the process', async () => {
  const path = write('gone.csv', 'a,b\n1,2\n');
  const ds = st.data.loadCsv(path);
  rmSync(path);
  await assert.rejects(() => ds.toArray(), { code: 'ENOENT' });
});
