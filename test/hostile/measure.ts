// Runs one read of a hostile file in a fresh process and reports how it ended and what it cost:
// a process of its own, because the peak resident size (getrusage's maxrss) of the test process
// is shared by every test in it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO = new URL('../../', import.meta.url).pathname;

export interface Measured<T> {
  /** The error the read threw, or null. */
  error: { name: string; message: string } | null;
  /** What the expression gave when it did not throw. */
  value: T | null;
  /** Growth of the peak resident size during the read, in bytes. */
  peakGrowth: number;
  rssGrowth: number;
  arrayBuffersGrowth: number;
}

/**
 * Evaluates `expression` (JavaScript with `st`, Strata's public API, in scope; `await` allowed)
 * in a new process and measures it.
 */
export function measureInChild<T>(expression: string): Measured<T> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-measure-'));
  try {
    const script = join(dir, 'child.mts');
    writeFileSync(
      script,
      `
      import * as st from ${JSON.stringify(pathToFileURL(join(REPO, 'src/index.ts')).href)};
      const before = process.memoryUsage();
      const peakBefore = process.resourceUsage().maxRSS;
      let error = null, value = null;
      try {
        value = (${expression}) ?? null;
      } catch (e) {
        error = { name: e.name, message: e.message };
      }
      const after = process.memoryUsage();
      console.log(JSON.stringify({
        error, value,
        peakGrowth: (process.resourceUsage().maxRSS - peakBefore) * 1024,
        rssGrowth: after.rss - before.rss,
        arrayBuffersGrowth: after.arrayBuffers - before.arrayBuffers,
      }));
    `,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    assert.equal(child.status, 0, `the child failed (signal ${child.signal}): ${child.stderr}`);
    return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Measured<T>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
