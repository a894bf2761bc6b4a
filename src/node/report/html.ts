import { ValueError } from '../../core/errors.js';
import { escapeXml } from './text.js';

// A self-contained report page (inline CSS, no scripts) that links the pictures written beside it.

export interface ReportParts {
  title: string;
  /** Model summary text, shown preformatted. */
  summary: string;
  /** Final metrics, e.g. { loss: 0.31, val_accuracy: 0.89 }. */
  metrics: Record<string, number>;
  /** Wall-clock seconds of each epoch. */
  epochSeconds?: number[];
  /**
   * Pictures in display order; `file` is relative to the page. `width` (CSS pixels) sets the shown
   * width: pass half the pixel width for PNGs rendered at twice their size (svgToPng's default).
   */
  images: { title: string; file: string; width?: number }[];
}

const STYLE = `
body { font-family: "DejaVu Sans", system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; color: #222; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3rem; }
table { border-collapse: collapse; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: .3rem .8rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: .8rem; overflow-x: auto; font-size: .85rem; }
figure { margin: 1rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-weight: bold; margin-bottom: .4rem; }
`;

/** A metric shown with 4 significant digits, or as-is when not a finite number. */
function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? Number(v.toPrecision(4)).toString() : v.toExponential(3);
}

/** A relative link: http(s)/javascript/data URLs and absolute paths are refused, since the report only shows its own files. */
function checkFile(file: string): string {
  if (typeof file !== 'string' || file.length === 0 || /^[a-z][a-z0-9+.-]*:/i.test(file) || file.startsWith('/') || file.startsWith('\\')) {
    throw new ValueError(`reportHtml: image file must be a relative path; received ${JSON.stringify(file)}`);
  }
  return file.split('/').map(encodeURIComponent).join('/');
}

function metricsTable(metrics: Record<string, number>): string {
  const rows = Object.entries(metrics).map(([k, v]) => `<tr><th>${escapeXml(k)}</th><td class="num">${escapeXml(formatNumber(v))}</td></tr>`);
  return rows.length ? `<table>${rows.join('')}</table>` : '<p>No metrics recorded.</p>';
}

function timingTable(seconds: number[]): string {
  const total = seconds.reduce((a, b) => a + b, 0);
  const rows = seconds.map((s, i) => `<tr><td class="num">${i + 1}</td><td class="num">${s.toFixed(2)}</td></tr>`);
  const mean = seconds.length ? total / seconds.length : 0;
  return (
    `<table><tr><th>Epoch</th><th>Seconds</th></tr>${rows.join('')}` +
    `<tr><th>Total</th><td class="num">${total.toFixed(2)}</td></tr>` +
    `<tr><th>Mean</th><td class="num">${mean.toFixed(2)}</td></tr></table>`
  );
}

/** The HTML report page. Every piece of text is escaped, so names and summaries cannot inject markup. */
export function reportHtml(parts: ReportParts): string {
  const { title, summary, metrics, epochSeconds, images } = parts;
  if (epochSeconds?.some((s) => !Number.isFinite(s) || s < 0)) {
    throw new ValueError('reportHtml: epochSeconds must be finite and non-negative');
  }
  const figures = images.map((img) => {
    if (img.width !== undefined && !(Number.isFinite(img.width) && img.width > 0)) {
      throw new ValueError(`reportHtml: image width must be a positive number; received ${img.width}`);
    }
    const width = img.width === undefined ? '' : ` width="${Math.round(img.width)}"`;
    return (
      `<figure><figcaption>${escapeXml(img.title)}</figcaption>` +
      `<img src="${escapeXml(checkFile(img.file))}"${width} alt="${escapeXml(img.title)}"></figure>`
    );
  });
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    `<head><meta charset="utf-8"><title>${escapeXml(title)}</title><style>${STYLE}</style></head>`,
    '<body>',
    `<h1>${escapeXml(title)}</h1>`,
    '<h2>Final metrics</h2>',
    metricsTable(metrics),
    ...(epochSeconds?.length ? ['<h2>Time per epoch</h2>', timingTable(epochSeconds)] : []),
    '<h2>Model</h2>',
    `<pre>${escapeXml(summary)}</pre>`,
    ...(figures.length ? ['<h2>Pictures</h2>', ...figures] : []),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
