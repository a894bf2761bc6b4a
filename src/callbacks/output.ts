import { platform } from '../core/platform.js';

// Where callbacks' messages go, and how they print numbers.
//
// Note [Messages and the live bar]: a live progress bar owns the terminal's current line and
// redraws it with cursor moves. A message printed under it would be overwritten or leave the bar
// half-drawn, so the bar registers itself here and is suspended (its line cleared) before any
// message is printed; it redraws itself on the next batch.

/** A live line that can get out of the way of a message. */
export interface LiveLine {
  suspend(): void;
}

let liveLine: LiveLine | undefined;

export function setLiveLine(line: LiveLine | undefined): void {
  liveLine = line;
}

export function clearLiveLine(line: LiveLine): void {
  if (liveLine === line) liveLine = undefined;
}

/** Prints one line on stdout (verbose messages of callbacks), clearing a live bar first. */
export function printMessage(text: string): void {
  liveLine?.suspend();
  platform().stdout().write(`${text}\n`);
}

/** Prints a warning on stderr, clearing a live bar first. */
export function printWarning(text: string): void {
  liveLine?.suspend();
  console.warn(text);
}

/** A metric value as Keras's progress bar prints it: 4 decimals, or 4-digit exponent notation when tiny. */
export function formatLogValue(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  if (Math.abs(value) > 1e-3) return value.toFixed(4);
  return pythonExponent(value.toExponential(4));
}

/** JavaScript writes 1.5e-7; Python (and so Keras's logs) writes 1.5e-07. */
export function pythonExponent(s: string): string {
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** A duration in seconds: 12.3s, 2m 05s, 1h 02m 03s. */
export function formatDuration(seconds: number): string {
  if (!(seconds >= 0) || !Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600),
    m = Math.floor((whole % 3600) / 60),
    s = whole % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${two(m)}m ${two(s)}s` : `${m}m ${two(s)}s`;
}

/** A number as Python's `{:.5f}` prints it, for Keras's messages ("improved from 0.51234 to ..."). */
export function fixed5(value: number): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  return value.toFixed(5);
}
