// The command line every course example shares: `--quick` (a short run the test suite makes, which
// must still train and draw), `--out DIR` (where pictures and results go) and `--seed`. An example
// adds its own options; an unknown option is an error that lists the known ones.
import { parseArgs } from 'node:util';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

type OptionSpec = { type: 'string' | 'boolean'; default?: string | boolean };

export interface ExampleArgs<T extends Record<string, OptionSpec>> {
  /** True for the short run the tests make. */
  quick: boolean;
  /** The folder the example writes into (created). */
  out: string;
  seed: number;
  /** The example's own options, as parsed (strings stay strings). */
  values: { [K in keyof T]: T[K]['type'] extends 'boolean' ? boolean : string | undefined };
  /** A path inside `out`. */
  file(name: string): string;
}

/** Parses process.argv for the example called `name` (its default output is runs/examples/<name>). */
export function exampleArgs<T extends Record<string, OptionSpec>>(name: string, own: T = {} as T): ExampleArgs<T> {
  const options = {
    quick: { type: 'boolean' as const, default: false },
    out: { type: 'string' as const, default: join('runs', 'examples', name) },
    seed: { type: 'string' as const, default: '0' },
    ...own,
  };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ options, allowPositionals: false, args: process.argv.slice(2) });
  } catch (error) {
    const known = Object.keys(options)
      .map((k) => `--${k}`)
      .join(', ');
    console.error(`example:${name}: ${(error as Error).message} (known options: ${known})`);
    process.exit(2);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const seed = Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0) {
    console.error(`example:${name}: --seed expects a non-negative integer; received ${JSON.stringify(v.seed)}`);
    process.exit(2);
  }
  const out = resolve(String(v.out));
  mkdirSync(out, { recursive: true });
  return {
    quick: Boolean(v.quick),
    out,
    seed,
    values: v as ExampleArgs<T>['values'],
    file: (fileName: string) => join(out, fileName),
  };
}

/**
 * Prints the example's summary as one `RESULT {json}` line (the tests read it) after writing it
 * to `result.json` in the output folder.
 */
export async function reportResult(args: { file(name: string): string }, result: Record<string, unknown>): Promise<void> {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(args.file('result.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`RESULT ${JSON.stringify(result)}`);
}
