// The convnet step's second anchor: bench/onednn-step/step.cc, the same training step written
// directly on oneDNN 2.6 (the bound for Strata's native step, issue 24). Built here with g++
// against Debian's libdnnl-dev on first use (and again when the source changes), then run once
// per round as a child process that prints one JSON line.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.join(here, 'onednn-step', 'step.cc');
const BINARY = path.join(here, 'onednn-step', 'build', 'onednn-step');
const DETECT_OPENMP = path.join(here, '..', 'scripts', 'detect-openmp.mjs');

export interface OnednnStepRun {
  threads: number;
  stepMs: number;
  minMs: number;
  steps: number;
  loss0: number;
  lossN: number;
}

/** Builds the binary if it is missing or older than its source; returns why it cannot, or null. */
export function buildOnednnStep(): string | null {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= Math.max(statSync(SOURCE).mtimeMs, statSync(DETECT_OPENMP).mtimeMs)) return null;
  mkdirSync(path.dirname(BINARY), { recursive: true });
  try {
    // The OpenMP runtime Strata's addon links (Note [Two OpenMP runtimes, one in use] in
    // native/src/addon.cc), ahead of oneDNN's libgomp as there, so that the bound and Strata
    // fork and join their threads the same way.
    const openmp = execFileSync(process.execPath, [DETECT_OPENMP, '--libs'], { encoding: 'utf8' }).trim();
    const runtime = openmp === '-lgomp' ? [] : [openmp];
    execFileSync('g++', ['-O3', '-march=native', '-fopenmp', '-std=c++17', SOURCE, ...runtime, '-ldnnl', '-o', BINARY], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return null;
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').slice(0, 3).join(' ');
    return `could not build bench/onednn-step/step.cc with g++ -ldnnl (needs g++ and libdnnl-dev): ${stderr || (e as Error).message}`;
  }
}

/** One measurement: the step's median over about `budget` seconds after 10 warm-up steps. */
export function runOnednnStep(threads: number, budget: number): OnednnStepRun {
  const out = execFileSync(BINARY, ['--threads', String(threads), '--budget', String(budget)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
  });
  const run = JSON.parse(out.trim().split('\n').pop() ?? '') as OnednnStepRun;
  if (!(run.lossN < run.loss0)) throw new Error(`the oneDNN-only step's loss did not fall (${run.loss0} -> ${run.lossN}): its step is wrong`);
  return run;
}
