// The benchmark's table: one row per measurement, both frameworks side by side with their ratio
// and a verdict, printed as aligned text (and kept in the JSON results as is).

export type Better = 'higher' | 'lower' | 'none';
export interface Row {
  section: string;
  name: string;
  unit: string;
  strata: number | null;
  torch: number | null;
  better: Better;
  ratio: number | null;
  note?: string;
}

export const rows: Row[] = [];
export function row(
  section: string,
  name: string,
  unit: string,
  better: Better,
  s: number | null | undefined,
  t: number | null | undefined,
  note?: string,
): void {
  const sv = s ?? null,
    tv = t ?? null;
  const ratio = sv !== null && tv !== null && tv !== 0 ? sv / tv : null;
  rows.push({ section, name, unit, strata: sv, torch: tv, better, ratio, ...(note ? { note } : {}) });
}

export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toString();
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  return x.toFixed(3);
}
export function fmtSigned(x: number): string {
  return (x >= 0 ? '+' : '') + fmt(x);
}
function verdict(r: Row): string {
  if (r.ratio === null || r.better === 'none') return '';
  const faster = r.better === 'higher' ? r.ratio >= 1 : r.ratio <= 1;
  const factor = r.ratio >= 1 ? r.ratio : 1 / r.ratio;
  if (factor < 1.05) return 'about even';
  return `Strata ${factor.toFixed(2)}x ${faster ? 'faster' : 'slower'}`;
}

export function printTable(): void {
  const header = ['section', 'benchmark', 'unit', 'Strata', 'PyTorch', 'S/P', 'verdict', 'note'];
  const body = rows.map((r) => [
    r.section,
    r.name,
    r.unit,
    fmt(r.strata),
    fmt(r.torch),
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    verdict(r),
    r.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const numeric = new Set([3, 4, 5]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  let section = '';
  for (const [i, b] of body.entries()) {
    if (rows[i].section !== section && section !== '') console.log('');
    section = rows[i].section;
    console.log(line(b));
  }
}
