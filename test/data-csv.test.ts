import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as st from '../src/index.js';
import { assertClose, randomValues } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'strata-csv-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A random table of `rows` x 4 numbers (columns a, b, c, label) with integer labels. */
function table(rows: number, seed: number) {
  const v = randomValues(rows * 3, seed, -5, 5).map((x) => Math.round(x * 1000) / 1000);
  const data = Array.from({ length: rows }, (_, r) => [v[3 * r], v[3 * r + 1], v[3 * r + 2], r % 3]);
  return { data, text: data.map((r) => r.join(',')).join('\n') + '\n' };
}

const values = (t: st.Tensor) => Array.from(t.dataSync());

test('loadCsv reads features and labels row by row; the label column is left out of xs', async () => {
  const { data, text } = table(13, 1);
  const path = write('good.csv', `a,b,c,label\n${text}`);
  const ds = st.data.loadCsv(path, { labelColumn: 'label' });
  assert.equal(ds.size, null);
  const rows = await ds.toArray();
  assert.equal(rows.length, 13);
  rows.forEach((r, i) => {
    assert.deepEqual(r.xs.shape, [3]);
    assert.equal(r.xs.dtype, 'float32');
    assertClose(values(r.xs), data[i].slice(0, 3));
    assert.deepEqual(r.ys.shape, []);
    assert.equal(r.ys.item(), data[i][3]);
  });
  // Re-iterable, and batches like any dataset.
  const batches = await ds.batch(5).toArray();
  assert.deepEqual(
    batches.map((b) => b.xs.shape),
    [
      [5, 3],
      [5, 3],
      [3, 3],
    ],
  );
  assertClose(
    values(batches[2].ys),
    data.slice(10).map((r) => r[3]),
  );
  // The label may sit in the middle and be named by index; without a label xs is the element.
  const byIndex = await st.data.loadCsv(path, { labelColumn: 1 }).toArray();
  assertClose(values(byIndex[4].xs), [data[4][0], data[4][2], data[4][3]]);
  assertClose(byIndex[4].ys.item(), data[4][1]);
  const plain = await st.data.loadCsv(path).toArray();
  assertClose(values(plain[7]), data[7]);
});

test('loadCsv: columns by name or index, no header, other delimiters, quotes, CRLF and blank lines', async () => {
  const { data, text } = table(6, 2);
  const path = write('cols.csv', `a,b,c,label\n${text}`);
  const named = await st.data.loadCsv(path, { columns: ['c', 'a'], labelColumn: 'label' }).toArray();
  const indexed = await st.data.loadCsv(path, { columns: [2, 0], labelColumn: 3 }).toArray();
  named.forEach((r, i) => {
    assertClose(values(r.xs), [data[i][2], data[i][0]]);
    assertClose(values(indexed[i].xs), [data[i][2], data[i][0]]);
    assert.equal(indexed[i].ys.item(), data[i][3]);
  });
  const bare = write('bare.csv', text);
  const noHeader = await st.data.loadCsv(bare, { header: false, labelColumn: 3 }).toArray();
  assert.equal(noHeader.length, 6, 'the first line is data when header is false');
  assertClose(values(noHeader[0].xs), data[0].slice(0, 3));
  assert.throws(() => st.data.loadCsv(bare, { header: false, columns: ['a'] }), /loadCsv: columns\[0\] 'a' is a name, which needs header: true/);
  const semi = write('semi.csv', '\uFEFF"x";"y"\r\n"1.5";2\r\n\r\n-3;"4e-1"\r\n');
  const parsed = await st.data.loadCsv(semi, { delimiter: ';' }).toArray();
  assert.deepEqual(
    parsed.map((t) => values(t)),
    [
      [1.5, 2],
      [-3, Math.fround(0.4)],
    ],
  );
});

test('loadCsv reports bad values and malformed rows with the file, line and column', async () => {
  const path = write('bad-value.csv', 'a,b,label\n1,2,0\n3,oops,1\n');
  await assert.rejects(() => st.data.loadCsv(path, { labelColumn: 'label' }).toArray(), {
    name: 'FormatError',
    message: `loadCsv: '${path}' line 3, column 'b' (index 1): expected a number; received "oops"`,
  });
  const empty = write('empty-field.csv', 'a,b\n1,2\n3,\n');
  await assert.rejects(() => st.data.loadCsv(empty).toArray(), /line 3, column 'b' \(index 1\): expected a number; received ""/);
  const badLabel = write('bad-label.csv', '1,2,cat\n');
  await assert.rejects(
    () => st.data.loadCsv(badLabel, { header: false, labelColumn: 2 }).toArray(),
    /line 1, column 2: expected a number; received "cat"/,
  );
  const short = write('short-row.csv', 'a,b,c\n1,2,3\n4,5,6\n7,8\n');
  await assert.rejects(() => st.data.loadCsv(short).toArray(), {
    name: 'FormatError',
    message: `loadCsv: '${short}' line 4: expected 3 fields (as in the header); received 2`,
  });
  const quote = write('open-quote.csv', 'a,b\n1,2\n3,"4\n');
  await assert.rejects(() => st.data.loadCsv(quote).toArray(), {
    name: 'FormatError',
    message: new RegExp(`'${quote.replace(/[.]/g, '\\.')}' line \\d`),
  });
  // The rows before a bad one still come out, in order.
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const r of st.data.loadCsv(short)) seen.push(values(r)[0]);
  });
  assert.deepEqual(seen, [1, 4]);
});

test('loadCsv rejects bad calls at once', () => {
  const path = write('ok.csv', 'a,b\n1,2\n');
  assert.throws(() => st.data.loadCsv(join(dir, 'missing.csv')), { name: 'ValueError', message: /no such file/ });
  assert.throws(() => st.data.loadCsv(path, { labelColumn: 'z' }), {
    name: 'ValueError',
    message: /labelColumn 'z' is not a column of .*; its columns are: a, b/,
  });
  assert.throws(() => st.data.loadCsv(path, { labelColumn: 2 }), /labelColumn must be a column name or an integer in \[0, 1\]; received 2/);
  assert.throws(() => st.data.loadCsv(path, { columns: [] }), /columns must be a non-empty array/);
  assert.throws(() => st.data.loadCsv(path, { delimiter: '' }), /delimiter must be a non-empty string/);
  assert.throws(() => st.data.loadCsv(path, { labels: 'a' } as never), /loadCsv: unknown option 'labels'/);
  assert.throws(() => st.data.loadCsv(write('empty.csv', '')), { name: 'FormatError', message: /is empty; expected a header/ });
  assert.deepEqual(st.data.csvColumnNames(path), ['a', 'b']);
});
