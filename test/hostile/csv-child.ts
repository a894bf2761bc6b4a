// The large CSV cases of csv.test.ts, each run in a child process with a deadline: the reader
// they guard against spent minutes to hours inside one synchronous call, which no timer in the
// test's own process could interrupt. Prints one JSON line: what was read, or the error.
//
//   node --import tsx test/hostile/csv-child.ts <case> <dir>

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as st from '../../src/index.js';

type Result = Record<string, unknown>;

const seconds = (t0: number) => (performance.now() - t0) / 1000;

const cases: Record<string, (dir: string) => Promise<Result>> = {
  /** A header of 10^5 column names, then two rows; the label is the last column. */
  async wide(dir) {
    const n = 100_000;
    const path = join(dir, 'wide.csv');
    const names = Array.from({ length: n }, (_, i) => `c${i}`);
    const row = (r: number) => names.map((_, i) => (i * 7 + r) % 1000).join(',');
    writeFileSync(path, `${names.join(',')}\n${row(0)}\n${row(1)}\n`);
    const t0 = performance.now();
    const ds = st.data.loadCsv(path, { labelColumn: `c${n - 1}` });
    const callSeconds = seconds(t0);
    const rows = await ds.toArray();
    const xs = rows.map((r) => r.xs.dataSync());
    return {
      callSeconds,
      passSeconds: seconds(t0) - callSeconds,
      columns: st.data.csvColumnNames(path).length,
      rows: rows.length,
      shape: rows[0].xs.shape,
      ys: rows.map((r) => r.ys.item()),
      samples: xs.map((x) => [x[0], x[1], x[50_001], x[n - 2]]),
    };
  },

  /** One 50 MB line of numbers (6.25 million fields, no header) with the ceiling raised past it. */
  async longLine(dir) {
    const path = join(dir, 'long-line.csv');
    const block = Array.from({ length: 1000 }, (_, i) => 1_000_000 + i).join(',');
    const blocks = 6250;
    writeFileSync(path, `${Array.from({ length: blocks }, () => block).join(',')}\n`);
    const previous = st.setReadLimits({ maxCsvLineBytes: 64 * 2 ** 20 });
    try {
      const t0 = performance.now();
      const ds = st.data.loadCsv(path, { header: false });
      const callSeconds = seconds(t0);
      const rows = await ds.toArray();
      const x = rows[0].dataSync();
      return {
        callSeconds,
        passSeconds: seconds(t0) - callSeconds,
        rows: rows.length,
        fields: x.length,
        samples: [x[0], x[999], x[1000], x[x.length - 1]],
      };
    } finally {
      st.setReadLimits(previous);
    }
  },

  /** A first record of 15 MB whose quoted names hold line breaks and delimiters. */
  async quotedHeader(dir) {
    const n = 60_000;
    const path = join(dir, 'quoted-header.csv');
    const pad = 'x'.repeat(230);
    const names = Array.from({ length: n }, (_, i) => `name ${i},\r\n${pad}\n"${i}"`);
    const quoted = names.map((s) => `"${s.replace(/"/g, '""')}"`).join(',');
    writeFileSync(path, `${quoted}\r\n${names.map((_, i) => i % 100).join(',')}\r\n`);
    const t0 = performance.now();
    const ds = st.data.loadCsv(path, { columns: [names[n - 1], names[0]] });
    const callSeconds = seconds(t0);
    const rows = await ds.toArray();
    const read = st.data.csvColumnNames(path);
    return {
      callSeconds,
      passSeconds: seconds(t0) - callSeconds,
      columns: read.length,
      namesMatch: read.every((s, i) => s === names[i]),
      bytes: quoted.length,
      rows: rows.map((r) => Array.from(r.dataSync())),
    };
  },

  /** Lines past the default ceiling of 16 MiB: the header (refused at the call), then a row (refused on the pass). */
  async defaultLimit(dir) {
    const limit = st.getReadLimits().maxCsvLineBytes;
    const long = '1'.repeat(limit + 2 ** 20);
    const header = join(dir, 'long-header.csv');
    writeFileSync(header, `${long}\n1\n`);
    const row = join(dir, 'long-row.csv');
    writeFileSync(row, `a\n1\n${long}\n2\n`);
    const error = (e: unknown) => ({ name: (e as Error).name, message: (e as Error).message });
    let atCall: Result | null = null,
      onPass: Result | null = null;
    const t0 = performance.now();
    try {
      st.data.loadCsv(header, { header: false });
    } catch (e) {
      atCall = error(e);
    }
    const seen: number[] = [];
    try {
      for await (const x of st.data.loadCsv(row)) seen.push(x.item());
    } catch (e) {
      onPass = error(e);
    }
    return { limit, header, row, atCall, onPass, seen, seconds: seconds(t0) };
  },
};

const [name, dir] = process.argv.slice(2);
const run = cases[name];
if (!run || !dir) {
  console.error(`usage: csv-child.ts <${Object.keys(cases).join('|')}> <dir>`);
  process.exit(2);
}
try {
  console.log(JSON.stringify({ ok: true, ...(await run(dir)) }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: (e as Error).name, message: (e as Error).message }));
}
