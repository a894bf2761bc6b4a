import { ValueError, fmtValue } from '../core/errors.js';
import { checkKeys } from '../core/options.js';
import { platform, type TextFiles } from '../core/platform.js';
import { BaseCallback, type Logs } from './callback.js';
import { booleanOption, nonEmptyString } from './check-options.js';

/** Options of `st.callbacks.csvLogger`. */
export interface CsvLoggerOptions {
  /** The CSV file to write. */
  filename: string;
  /** Between fields. Default ','. */
  separator?: string;
  /** Add to an existing file instead of replacing it. Default false. */
  append?: boolean;
}

const OP = 'csvLogger';

/** A CSV field, quoted when it holds the separator, a quote or a line break. */
function field(text: string, separator: string): string {
  return text.includes(separator) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A log value as Python's csv module writes a float (nan and inf spelled as Python does). */
function valueText(value: number | undefined): string {
  if (value === undefined) return 'NA';
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return String(value);
}

/**
 * Writes one CSV row per epoch (Keras's CSVLogger): the columns are `epoch` (0-based) then the
 * first epoch's log keys sorted, plus `val_` twins of each when the first epoch had no validation
 * keys (validation may start later); missing values are `NA`. Each row is appended as one whole
 * line when its epoch ends, so a crash keeps every finished epoch and never leaves half a row.
 * Lines end with '\n'. When appending to a file that already has a header, its columns are reused.
 */
export class CsvLogger extends BaseCallback {
  /** The CSV file written. */
  readonly filename: string;
  /** The field separator. */
  readonly separator: string;
  /** Whether rows are added to an existing file. */
  readonly append: boolean;
  private keys: string[] | undefined;
  private writeHeader = true;
  /** An appended-to file that does not end its last line gets one first. */
  private endOpenLine = false;
  private readonly files: TextFiles;

  constructor(options: CsvLoggerOptions) {
    super();
    const files = platform().files;
    if (!files)
      throw new ValueError(`${OP}: writes a file, which needs Node; in a page, collect the logs with st.callbacks.lambdaCallback or fit's History`);
    this.files = files;
    if (options === undefined || options === null || typeof options !== 'object') {
      throw new ValueError(`${OP}: expected an options object with a filename; received ${fmtValue(options)}`);
    }
    checkKeys(OP, options, ['filename', 'separator', 'append']);
    this.filename = nonEmptyString(OP, 'filename', options.filename);
    this.separator = nonEmptyString(OP, 'separator', options.separator ?? ',');
    if (/["\r\n]/.test(this.separator))
      throw new ValueError(`${OP}: separator may not contain quotes or line breaks; received ${fmtValue(this.separator)}`);
    this.append = booleanOption(OP, 'append', options.append ?? false);
  }

  /** Replaces the file (or, with append, reads its header). */
  async onTrainBegin(): Promise<void> {
    this.keys = undefined;
    this.writeHeader = true;
    this.endOpenLine = false;
    if (!this.append) {
      await this.files.writeText(this.filename, '');
      return;
    }
    const existing = (await this.files.readText(this.filename)) ?? '';
    const header = existing.split('\n', 1)[0].replace(/\r$/, '');
    if (header.length === 0) return;
    this.endOpenLine = !existing.endsWith('\n');
    this.writeHeader = false;
    const columns = header.split(this.separator);
    if (columns[0] === 'epoch' && columns.length > 1 && !header.includes('"')) this.keys = columns.slice(1);
  }

  /** Appends the epoch's row. */
  async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    const values = logs ?? {};
    if (this.keys === undefined) {
      const sorted = Object.keys(values).sort();
      this.keys = sorted.some((k) => k.startsWith('val_')) ? sorted : [...sorted, ...sorted.map((k) => `val_${k}`)];
    }
    const keys = this.keys;
    let text = this.endOpenLine ? '\n' : '';
    this.endOpenLine = false;
    if (this.writeHeader) {
      text += `${['epoch', ...keys].map((k) => field(k, this.separator)).join(this.separator)}\n`;
      this.writeHeader = false;
    }
    text += `${[String(epoch), ...keys.map((k) => valueText(values[k]))].join(this.separator)}\n`;
    await this.files.appendText(this.filename, text);
  }
}
