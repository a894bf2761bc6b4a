// Node only (Note [Platforms] in core/platform.ts): imported through src/index.ts, never by the browser entry.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { CALL_TABLE, type NativeAddon } from './calls.gen.js';

export type { NativeAddon } from './calls.gen.js';

const HOW_TO_ENABLE = 'to enable it, install the Debian packages g++, make, python3 and libdnnl-dev, then run `npm rebuild strata`';

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Loads build/Release/strata_native.node, or throws a one-line reason with how to enable it. */
export function loadAddon(root = PACKAGE_ROOT): NativeAddon {
  const binary = path.join(root, 'build', 'Release', 'strata_native.node');
  if (!existsSync(binary)) {
    const status = path.join(root, 'build', 'native-status.json');
    // No status file: the install script never ran (npm --ignore-scripts, or an npm that skips
    // install scripts a project has not approved), which no build error explains.
    let why =
      "the native addon was not built because the package's install script did not run (npm --ignore-scripts, " +
      'or npm skipping unapproved install scripts: approve it with `npm approve-scripts strata`)';
    if (existsSync(status)) {
      const reason = (JSON.parse(readFileSync(status, 'utf8')) as { reason?: string }).reason;
      if (reason) why = `the native addon failed to build (${reason})`;
    }
    throw new Error(`${why}; ${HOW_TO_ENABLE}`);
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(binary) as NativeAddon;
  } catch (e) {
    throw new Error(`the native addon could not be loaded (${(e as Error).message.split('\n')[0]}); ${HOW_TO_ENABLE}`);
  }
  checkCallTable(addon);
  return addon;
}

/**
 * Refuses an addon built from another version of native/calls.mjs than this TypeScript was
 * generated from (Note [One table for the native calling convention]): its op codes or argument
 * positions could differ, and every kernel would then compute something else without an error.
 * Names the first function or enum that differs.
 */
export function checkCallTable(addon: Pick<NativeAddon, 'callTable'>, expected: string = CALL_TABLE): void {
  const actual = typeof addon.callTable === 'function' ? addon.callTable() : undefined;
  if (actual === expected) return;
  const why = actual === undefined ? 'it has no callTable(): it was built before the table existed' : firstDifference(actual, expected);
  throw new Error(
    `the native addon was built from a different native/calls.mjs than this code (${why}); ` +
      'rebuild it with `npm rebuild strata` (in a checkout: `node scripts/build-native.mjs`)',
  );
}

type Table = { enums: [string, string[], unknown][]; functions: [string, string[]][] };

function firstDifference(actual: string, expected: string): string {
  let a: Table, e: Table;
  try {
    [a, e] = [JSON.parse(actual) as Table, JSON.parse(expected) as Table];
  } catch {
    return 'the addon does not describe its table';
  }
  const show = (x: unknown) => (x === undefined ? 'absent' : JSON.stringify(x));
  for (const [kind, mine, theirs] of [
    ['enum', e.enums, a.enums],
    ['function', e.functions, a.functions],
  ] as const) {
    const theirsByName = new Map<string, unknown>(theirs.map((x) => [x[0], x.slice(1)]));
    for (const entry of mine) {
      const other = theirsByName.get(entry[0]);
      if (JSON.stringify(other) !== JSON.stringify(entry.slice(1)))
        return `${kind} ${entry[0]}: the addon has ${show(other)}, this code expects ${show(entry.slice(1))}`;
    }
    const names = new Set(mine.map((x) => x[0]));
    const extra = theirs.find((x) => !names.has(x[0]));
    if (extra) return `${kind} ${extra[0]}: the addon has it, this code does not`;
  }
  return 'the same entries in another order';
}
