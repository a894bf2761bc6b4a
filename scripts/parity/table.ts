// The parity table: every name of scripts/parity/sources.ts with Strata's counterpart, an alias,
// or the reason it is left out. A name whose Strata counterpart exists under the same spelling is
// found automatically; everything else has a decision in decisions.ts. docs/parity.md is this
// table rendered (scripts/parity/generate.ts); test/parity.test.ts fails when a name has neither a
// counterpart nor a reason, when a named counterpart does not exist, or when the page is stale.
import * as st from '../../src/index.js';
import { DECISIONS, STATUS_MEANING, type Decision, type Status } from './decisions.js';
import { loadSources, type Source, type SourceId } from './sources.js';

export interface Row {
  name: string;
  /** null when the name has neither a counterpart nor a decision: the test fails on it. */
  status: Status | null;
  /** The Strata counterpart as a path from the barrel ('st.layers.dense'), or null. */
  strata: string | null;
  note: string;
}

export interface Section {
  source: Source;
  rows: Row[];
}

const key = (name: string) => name.replace(/_/g, '').toLowerCase();

/** What a path like 'st.losses.hinge' or 'st.Tensor.prototype.toString' names in the barrel, if anything. */
export function resolve(path: string): unknown {
  const parts = path.split('.');
  if (parts[0] !== 'st') return undefined;
  let at: unknown = st;
  for (const part of parts.slice(1)) {
    if (at === null || (typeof at !== 'object' && typeof at !== 'function')) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * The key of `table` equal to `name` ignoring case and underscores, preferring the camelCase
 * spelling of a snake_case name; with `onlyFunctions`, a function whose name starts in lower case
 * (not a class such as st.Add for keras.ops.add).
 */
function findKey(table: object, name: string, onlyFunctions = false): string | undefined {
  const entries = table as Record<string, unknown>;
  const candidates = Object.keys(table).filter(
    (k) => key(k) === key(name) && (!onlyFunctions || (typeof entries[k] === 'function' && /^[a-z]/.test(k))),
  );
  return candidates.find((k) => k === camel(name)) ?? candidates[0];
}

/** The counterpart found by spelling alone, with its status, or null. */
function automatic(source: SourceId, name: string): { status: Status; strata: string; note: string } | null {
  const same = (strata: string) => (resolve(strata) === undefined ? null : { status: 'implemented' as const, strata, note: '' });
  switch (source) {
    case 'tfjs.ops':
      return same(`st.${name}`);
    case 'tfjs.layers':
      return same(`st.layers.${name}`);
    case 'keras.layers': {
      const k = findKey(st.layers, name);
      return k ? { status: 'implemented', strata: `st.layers.${k}`, note: '' } : null;
    }
    case 'keras.activations': {
      const k = findKey(st.activations, name);
      return k ? { status: 'implemented', strata: `st.activations.${k}`, note: '' } : null;
    }
    case 'keras.losses': {
      const k = findKey(st.losses, name);
      if (!k) return null;
      // Keras's classes (Hinge) are its functions (hinge) with their options bound: Strata has the functions.
      const isClass = /^[A-Z]/.test(name);
      return {
        status: isClass ? 'alias' : 'implemented',
        strata: `st.losses.${k}`,
        note: isClass ? `the function; its options are the class's arguments` : '',
      };
    }
    case 'keras.metrics': {
      const m = findKey(st.metrics, name);
      if (m) return { status: 'implemented', strata: `st.metrics.${m}`, note: '' };
      if (/^[A-Z]/.test(name) && typeof resolve(`st.${name}`) === 'function') return { status: 'implemented', strata: `st.${name}`, note: '' };
      const l = /^[a-z]/.test(name) ? findKey(st.losses, name) : undefined;
      return l ? { status: 'alias', strata: `st.losses.${l}`, note: 'the per-sample function is the loss (reduction: none)' } : null;
    }
    case 'keras.ops': {
      const k = findKey(st, name, true);
      return k ? { status: 'implemented', strata: `st.${k}`, note: '' } : null;
    }
    case 'keras.ops.image':
      return null;
  }
}

function row(source: SourceId, name: string): Row {
  const decision: Decision | undefined = DECISIONS[source]?.[name];
  const auto = automatic(source, name);
  // A decision wins, except 'planned' once a counterpart of that name exists (someone implemented
  // it), unless the decision says the namesake is another function.
  if (decision && !(decision.status === 'planned' && auto && !decision.unrelatedNamesake)) {
    return { name, status: decision.status, strata: decision.strata ?? null, note: decision.note ?? '' };
  }
  if (auto) return { name, ...auto };
  return { name, status: null, strata: null, note: '' };
}

export function buildTable(): { sections: Section[]; tfjsVersion: string; kerasVersion: string; kerasSource: string } {
  const { sources, tfjsVersion, keras } = loadSources();
  const sections = sources.map((source) => ({ source, rows: source.names.map((name) => row(source.id, name)) }));
  return { sections, tfjsVersion, kerasVersion: keras.keras, kerasSource: keras.source };
}

/** Decisions that name no listed name (a typo, or a name the library dropped). */
export function unusedDecisions(sections: readonly Section[]): string[] {
  return Object.entries(DECISIONS).flatMap(([id, table]) => {
    const names = new Set(sections.find((s) => s.source.id === id)?.source.names ?? []);
    return Object.keys(table ?? {})
      .filter((n) => !names.has(n))
      .map((n) => `${id}: ${n}`);
  });
}

const escape = (s: string) => s.replace(/\|/g, '\\|');

/** docs/parity.md. */
export function renderMarkdown(): string {
  const { sections, tfjsVersion, kerasVersion, kerasSource } = buildTable();
  const lines: string[] = [
    '# Parity with Keras 3 and TensorFlow.js',
    '',
    '<!-- Generated by `npm run parity` (scripts/parity/generate.ts); test/parity.test.ts fails when it is stale. Edit scripts/parity/decisions*.ts, not this file. -->',
    '',
    `Every op and layer that TensorFlow.js ${tfjsVersion} exports, and every name of Keras ${kerasVersion}'s`,
    '`keras.layers`, `keras.losses`, `keras.metrics`, `keras.activations`, `keras.ops` and `keras.ops.image`, with',
    "its Strata counterpart (as reached from `import * as st from 'strata'`) or the reason it has none. Use",
    'it as the migration guide: look a name up, then read the note for what differs. The tfjs names are',
    `read from the @tensorflow/tfjs ${tfjsVersion} packages (a devDependency), the Keras names from`,
    `scripts/parity/keras-${kerasVersion}.json: ${kerasSource}.`,
    '',
    'Status:',
    '',
    ...Object.entries(STATUS_MEANING).map(([status, meaning]) => `- **${status}**: ${meaning}`),
    '',
    '| source | implemented | alias | planned | left out |',
    '| --- | --- | --- | --- | --- |',
    ...sections.map(({ source, rows }) => {
      const count = (s: Status) => rows.filter((r) => r.status === s).length;
      return `| [${source.prefix.slice(0, -1)}](#${anchor(source.title)}) | ${count('implemented')} | ${count('alias')} | ${count('planned')} | ${count('left out')} |`;
    }),
    '',
  ];
  for (const { source, rows } of sections) {
    lines.push(`## ${source.title}`, '', '| name | status | Strata | notes |', '| --- | --- | --- | --- |');
    for (const r of rows) {
      const strata = r.strata ? `\`${r.strata}\`` : '';
      lines.push(`| \`${source.prefix}${r.name}\` | ${r.status ?? '**missing**'} | ${strata} | ${escape(r.note)} |`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** GitHub's heading anchor. */
function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');
}
