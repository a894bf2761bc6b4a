// CSV reading rows of the benchmark (issue 22): full passes of st.data.loadCsv over numeric
// files of 50 MB and 5 MB. Strata only. The reader is linear when the two rates agree; the one
// it replaced re-parsed its first record after every 64 KB, so its rate fell with a line's length.
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as st from '../dist/index.js';
import { timeIt } from './measure.js';

export const CSV_FEATURES = 100;
export const CSV_SIZES_MB = [50, 5] as const;

export interface CsvResult {
  bytes: number;
  rows: number;
  passMs: number;
  mbPerSec: number;
  rowsPerSec: number;
}

/** `features` float columns with 4 decimals in [0, 10) and an integer label 0..9, one row at a time, until `bytes`. */
async function writeNumericCsv(file: string, bytes: number, features: number): Promise<void> {
  const out = createWriteStream(file);
  let written = 0,
    row = 0,
    seed = 12345;
  const header = `${Array.from({ length: features }, (_, i) => `f${i}`).join(',')},label\n`;
  out.write(header);
  written += header.length;
  while (written < bytes) {
    let line = '';
    for (let i = 0; i < features; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      line += `${(((seed >>> 8) / 2 ** 24) * 10).toFixed(4)},`;
    }
    line += `${row++ % 10}\n`;
    written += line.length;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

/** Median full pass (header read at the call, every row to xs/ys tensors) over each file size. */
export async function measureCsv(budget: number): Promise<Record<string, CsvResult>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'strata-bench-csv-'));
  const out: Record<string, CsvResult> = {};
  try {
    for (const mb of CSV_SIZES_MB) {
      const file = path.join(dir, `numeric-${mb}mb.csv`);
      await writeNumericCsv(file, mb * 1e6, CSV_FEATURES);
      const bytes = statSync(file).size;
      let rows = 0;
      const pass = async () => {
        rows = 0;
        for await (const r of st.data.loadCsv(file, { labelColumn: 'label' })) {
          rows++;
          r.xs.dispose();
          r.ys.dispose();
        }
      };
      const t = await timeIt(pass, { warmup: 1, budgetSeconds: budget * 2, minReps: 3, maxReps: 10 });
      out[mb] = { bytes, rows, passMs: t.median, mbPerSec: bytes / 1e6 / (t.median / 1000), rowsPerSec: rows / (t.median / 1000) };
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
