// Runs a course example's short mode (`--quick`) in a child process, the way a user runs it, and
// hands back its RESULT line and the files it wrote. Examples import 'strata', which resolves to
// dist/, so `npm test` (which builds first) tests what users run.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ExampleRun {
  out: string;
  stdout: string;
  result: Record<string, unknown>;
  /** File name -> size in bytes, for what the example wrote into its output folder. */
  files: Record<string, number>;
}

/** Runs `examples/<script>` with --quick --out <fresh temp folder> plus `args`. */
export async function runExample(script: string, args: string[] = [], timeoutMs = 300_000): Promise<ExampleRun> {
  const out = mkdtempSync(join(tmpdir(), `strata-example-`));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', join('examples', script), '--quick', '--out', out, ...args], {
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`examples/${script} printed no RESULT line; its output ended:\n${stdout.slice(-2000)}`);
  const files: Record<string, number> = {};
  for (const name of readdirSync(out)) files[name] = statSync(join(out, name)).size;
  return { out, stdout, result: JSON.parse(line.slice('RESULT '.length)), files };
}

/** True when `bytes` start with the PNG signature. */
export function isPng(path: string): boolean {
  const head = readFileSync(path).subarray(0, 8);
  return head.length === 8 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47;
}
