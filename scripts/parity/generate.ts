// Writes docs/parity.md from the parity table (scripts/parity/table.ts): `npm run parity`.
// With --check it writes nothing and exits with 1 when the page is stale or a name is undecided.
import { readFileSync, writeFileSync } from 'node:fs';
import { buildTable, renderMarkdown } from './table.js';

const PAGE = new URL('../../docs/parity.md', import.meta.url);

const text = renderMarkdown();
const missing = buildTable().sections.flatMap(({ source, rows }) => rows.filter((r) => r.status === null).map((r) => `${source.prefix}${r.name}`));
if (missing.length) console.error(`no counterpart and no decision (add one to scripts/parity/decisions*.ts): ${missing.join(', ')}`);
if (process.argv.includes('--check')) {
  const current = (() => {
    try {
      return readFileSync(PAGE, 'utf8');
    } catch {
      return '';
    }
  })();
  if (current !== text) console.error('docs/parity.md is stale: run `npm run parity`');
  process.exit(current === text && !missing.length ? 0 : 1);
}
writeFileSync(PAGE, text);
console.log(`wrote docs/parity.md (${text.split('\n').length} lines)${missing.length ? `; ${missing.length} names undecided` : ''}`);
