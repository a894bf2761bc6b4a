// Node only (Note [Platforms] in core/platform.ts): imported through src/index.ts, never by the browser entry.
// CSV files as datasets: each row becomes `{xs: float32 [features], ys: float32 []}` (or just xs
// without a label column). Parsing (quotes, embedded delimiters and newlines, BOM, CRLF) is
// csv-parse's; this file maps columns, converts numbers and reports bad rows by file and line.
//
// The header (or, without one, the first row) is read synchronously when loadCsv is called, so
// an unknown column name fails at the call, as every invalid call should; the rows themselves are
// streamed on each pass. Both are read in one pass over the bytes, and a line longer than
// getReadLimits().maxCsvLineBytes is refused rather than held (Note [Trust no size] in
// core/limits.ts).

import type { CsvOptions } from '../../data/file-types.js';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { FormatError, ValueError } from '../../core/errors.js';
import { getReadLimits } from '../../core/limits.js';
import { checkKeys } from '../../core/options.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Dataset } from '../../data/dataset.js';

const OP = 'loadCsv';

/** What a pass needs to turn records into tensors, worked out once at the call. */
interface CsvPlan {
  path: string;
  header: boolean;
  delimiter: string;
  names: string[] | null;
  fieldCount: number | null;
  features: number[];
  label: number | null;
}

const QUOTE = 0x22,
  LF = 0x0a,
  CR = 0x0d;
const BOM = [0xef, 0xbb, 0xbf];
// Any of the three ends a line. csv-parse would otherwise guess the line break from the first
// one it meets, and while it has not met one it allocates three buffers per byte: a 50 MB first
// line parsed at a tenth of its usual speed.
const LINE_BREAKS = ['\r\n', '\n', '\r'];

function lineTooLong(path: string, line: number | string, limit: number): FormatError {
  return new FormatError(
    `${OP}: '${path}' line ${line} is longer than ${limit} bytes, the limit on a CSV line (maxCsvLineBytes); ` +
      `if the file is trusted, raise it with st.setReadLimits({ maxCsvLineBytes: n })`,
  );
}

/**
 * The first record of the file (or null for an empty file), read without streaming the rest.
 *
 * The bytes are scanned once for the end of the first record: a line break outside quotes,
 * after a BOM and empty lines, which is where csv-parse ends it on any input it accepts (a quote
 * anywhere else than around a field is an error to it, so toggling on every quote is enough).
 * Only that record is kept and parsed, once: searching and re-parsing the growing text after
 * each chunk made a long first line quadratic. Past the ceiling on a line's length the file is
 * refused before more is read.
 */
function readFirstRecord(path: string, delimiter: string): string[] | null {
  const limit = getReadLimits().maxCsvLineBytes;
  const fd = openSync(path, 'r');
  try {
    const parts: Buffer[] = [];
    let length = 0; // of the record so far, quotes, delimiters and quoted line breaks included
    let line = 1; // where the record starts (before it starts: the line being read)
    let started = false,
      quoted = false,
      ended = false,
      afterCR = false,
      first = true;
    while (!ended) {
      const chunk = Buffer.allocUnsafe(65536);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      let i = 0;
      if (first && n >= 3 && chunk[0] === BOM[0] && chunk[1] === BOM[1] && chunk[2] === BOM[2]) i = 3;
      first = false;
      for (; !started && i < n; i++) {
        const b = chunk[i];
        if (b === CR || (b === LF && !afterCR)) line++;
        afterCR = b === CR;
        if (b !== CR && b !== LF) {
          started = true;
          break;
        }
      }
      const start = i;
      for (; i < n; i++) {
        const b = chunk[i];
        if (b === QUOTE) quoted = !quoted;
        else if (!quoted && (b === LF || b === CR)) {
          ended = true;
          break;
        }
      }
      length += i - start;
      if (length > limit) throw lineTooLong(path, line, limit);
      if (i > start) parts.push(chunk.subarray(start, i));
    }
    if (!started) return null;
    try {
      const records = parseSync(Buffer.concat(parts, length), {
        delimiter,
        record_delimiter: LINE_BREAKS,
        relax_column_count: true,
        to: 1,
      }) as string[][];
      return records[0] ?? null;
    } catch (error) {
      throw new FormatError(`${OP}: '${path}' line ${line}: ${(error as Error).message}`);
    }
  } finally {
    closeSync(fd);
  }
}

/** The column names for an error message, cut short: a header may hold 10^5 names, or one of 10 MB. */
function listNames(names: string[]): string {
  const shown = names.slice(0, 20).map((name) => (name.length > 60 ? `${name.slice(0, 60)}...` : name));
  return shown.join(', ') + (names.length > shown.length ? `, ... (${names.length} in all)` : '');
}

function resolveColumn(path: string, what: string, column: string | number, names: string[] | null, fieldCount: number | null): number {
  if (typeof column === 'string') {
    if (names === null) throw new ValueError(`${OP}: ${what} '${column}' is a name, which needs header: true; use a column index instead`);
    const index = names.indexOf(column);
    if (index < 0) throw new ValueError(`${OP}: ${what} '${column}' is not a column of '${path}'; its columns are: ${listNames(names)}`);
    return index;
  }
  if (!Number.isInteger(column) || column < 0 || (fieldCount !== null && column >= fieldCount)) {
    const range = fieldCount === null ? 'a non-negative integer' : `an integer in [0, ${fieldCount - 1}]`;
    throw new ValueError(`${OP}: ${what} must be a column name or ${range}; received ${JSON.stringify(column)}`);
  }
  return column;
}

function makePlan(path: string, options: CsvOptions): CsvPlan {
  checkKeys(OP, options, ['labelColumn', 'columns', 'header', 'delimiter']);
  const { labelColumn, columns, header = true, delimiter = ',' } = options;
  if (typeof path !== 'string') throw new ValueError(`${OP}: path must be a string; received ${typeof path}`);
  if (typeof header !== 'boolean') throw new ValueError(`${OP}: header must be a boolean; received ${JSON.stringify(header)}`);
  if (typeof delimiter !== 'string' || delimiter.length === 0)
    throw new ValueError(`${OP}: delimiter must be a non-empty string; received ${JSON.stringify(delimiter)}`);
  if (columns !== undefined && (!Array.isArray(columns) || columns.length === 0)) {
    throw new ValueError(`${OP}: columns must be a non-empty array of column names or indices; received ${JSON.stringify(columns)}`);
  }
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new ValueError(`${OP}: no such file '${path}'`);
  }
  if (!isFile) throw new ValueError(`${OP}: '${path}' is not a file`);

  const first = readFirstRecord(path, delimiter);
  if (header && first === null) throw new FormatError(`${OP}: '${path}' is empty; expected a header on line 1`);
  const names = header ? first : null;
  const fieldCount = first === null ? null : first.length;
  const label = labelColumn === undefined ? null : resolveColumn(path, 'labelColumn', labelColumn, names, fieldCount);
  let features: number[];
  if (columns !== undefined) {
    features = columns.map((c, i) => resolveColumn(path, `columns[${i}]`, c, names, fieldCount));
  } else {
    features = [];
    for (let i = 0; i < (fieldCount ?? 0); i++) if (i !== label) features.push(i);
  }
  return { path, header, delimiter, names, fieldCount, features, label };
}

function columnName(plan: CsvPlan, index: number): string {
  return plan.names === null ? `column ${index}` : `column '${plan.names[index]}' (index ${index})`;
}

function toNumber(plan: CsvPlan, field: string, line: number, column: number): number {
  const trimmed = field.trim();
  const value = trimmed === '' ? NaN : Number(trimmed);
  if (Number.isNaN(value) && trimmed !== 'NaN') {
    throw new FormatError(`${OP}: '${plan.path}' line ${line}, ${columnName(plan, column)}: expected a number; received ${JSON.stringify(field)}`);
  }
  return value;
}

async function* readRows(plan: CsvPlan): AsyncGenerator<Tensor | { xs: Tensor; ys: Tensor }> {
  // csv-parse measures a record by the characters of its fields, without delimiters and quotes,
  // so a row may pass the ceiling by those; what the ceiling is for, bounding what one record
  // can make us hold, still holds.
  const limit = getReadLimits().maxCsvLineBytes;
  const parser = parse({
    delimiter: plan.delimiter,
    record_delimiter: LINE_BREAKS,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
    max_record_size: limit,
  });
  const source = createReadStream(plan.path);
  // pipe() does not pass the file's errors on: unheard, one (the file gone since the call) would
  // end the process.
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  let fieldCount = plan.fieldCount;
  let skipHeader = plan.header;
  const row = new Float32Array(plan.features.length);
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (skipHeader) {
        skipHeader = false;
        continue;
      }
      // csv-parse counts the line a record ends on (the same as its first, but for quoted newlines).
      const line = info.lines;
      fieldCount ??= record.length;
      if (record.length !== fieldCount) {
        const as = plan.header ? 'as in the header' : 'as in the first row';
        throw new FormatError(`${OP}: '${plan.path}' line ${line}: expected ${fieldCount} fields (${as}); received ${record.length}`);
      }
      plan.features.forEach((c, k) => {
        row[k] = toNumber(plan, record[c], line, c);
      });
      const xs = tensor(row.slice(), [row.length], 'float32');
      if (plan.label === null) {
        yield xs;
      } else {
        yield { xs, ys: tensor(toNumber(plan, record[plan.label], line, plan.label), [], 'float32') };
      }
    }
  } catch (error) {
    if (error instanceof FormatError) throw error;
    const e = error as Error & { code?: string; lines?: number };
    if (e.code === 'CSV_MAX_RECORD_SIZE') throw lineTooLong(plan.path, e.lines ?? '?', limit);
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) {
      throw new FormatError(`${OP}: '${plan.path}' line ${e.lines ?? '?'}: ${e.message}`);
    }
    throw error;
  } finally {
    // pipe() leaves the file open when the parser fails or the pass stops early.
    source.destroy();
  }
}

/**
 * A dataset of the rows of a CSV file, streamed on each pass. Values must be numbers; a field
 * that is not, or a row with the wrong number of fields, is a FormatError naming the file, the
 * line (the header is line 1) and the column. So is a line longer than
 * `st.getReadLimits().maxCsvLineBytes` (16 MiB unless raised with st.setReadLimits): the header
 * is measured at the call, the rows on each pass, against the ceiling in force at the time.
 */
export function loadCsv(
  path: string,
  options: CsvOptions & { labelColumn: string | number },
): Dataset<{
  /** The feature columns of one row, float32 [features]. */
  xs: Tensor;
  /** The label column's value, float32 []. */
  ys: Tensor;
}>;
/** Without `labelColumn`: each element is one row's values, float32 [columns]. */
export function loadCsv(path: string, options?: CsvOptions): Dataset<Tensor>;
export function loadCsv(path: string, options: CsvOptions = {}): Dataset<Tensor | { xs: Tensor; ys: Tensor }> {
  const plan = makePlan(path, options);
  return new Dataset({ size: null, open: () => readRows(plan) });
}

/** The column names of a CSV file with a header (for discovering columns before loading). */
export function csvColumnNames(path: string, options: { delimiter?: string } = {}): string[] {
  checkKeys('csvColumnNames', options, ['delimiter']);
  return makePlan(path, { header: true, delimiter: options.delimiter ?? ',' }).names ?? [];
}
