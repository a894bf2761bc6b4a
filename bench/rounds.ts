// Every timed row of the benchmark, measured in interleaved rounds: within a round each row runs
// on Strata, then at once on PyTorch (and, for inference, on onnxruntime-node), so the two sides
// of a ratio see the same machine state. A row's reported value is each side's best round; every
// round's ratio is printed beside it so the spread is visible (bench/README.md, Method).
import * as st from '../dist/index.js';
import { ortConvnetInference, type OrtInference } from './onnx-inference.js';
import { buildOnednnStep, type OnednnStepRun, runOnednnStep } from './onednn-step.js';
import { measureSequenceStep, SEQUENCE_MODELS } from './sequence.js';
import {
  CONV_LAYERS,
  type ConvTimes,
  type InferenceRun,
  measureAddOverhead,
  measureConv,
  measureEpoch,
  measureInference,
  measureSgemm,
  measureTrainStep,
  SGEMM_SIZES,
  TRAIN_MODELS,
  type TrainModel,
} from './suite.js';
import type { TorchServer } from './torch-server.js';

export type Gemm = { ms: number; gflops: number; mkldnn_gflops?: number };
export type Step = { stepMs: number; minMs: number };
export type EpochRun = { ms: number; loss: number };
/** One row's measurements, a list per side with one entry per round. */
export interface Sides<T> {
  strata: T[];
  torch: T[];
}

export interface Rounds {
  sgemm: Record<string, Sides<Gemm>>;
  conv: Record<string, Sides<ConvTimes>>;
  add: Sides<{ us: number }>;
  train: Record<string, Sides<Step>>;
  /** The convnet step written directly on oneDNN (bench/onednn-step/), in the same rounds. */
  onednnStep: OnednnStepRun[];
  onednnSkipped?: string;
  sequence: Record<string, Sides<Step>>;
  /** `ort`: the same convnet exported with st.onnx.toBytes, run by onnxruntime-node. */
  inference: Sides<InferenceRun> & { ort: InferenceRun[]; ortSkipped?: string };
  fullEpoch?: Record<string, Sides<EpochRun>>;
}

export interface RoundOptions {
  rounds: number;
  fullRounds: number;
  full: boolean;
  budget: number;
  threads: number;
}

const sides = <T>(): Sides<T> => ({ strata: [], torch: [] });
const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

export async function interleavedRounds(torchServer: TorchServer | null, o: RoundOptions): Promise<Rounds> {
  const trainNames = Object.keys(TRAIN_MODELS) as TrainModel[];
  let server = torchServer;
  // A PyTorch process that fails mid-way leaves the rounds it answered; Strata's go on alone.
  const ask = async <T>(cmd: Record<string, unknown>, into: T[]) => {
    try {
      if (server) into.push(await server.ask<T>(cmd));
    } catch (e) {
      progress(`${(e as Error).message}; the remaining rounds measure Strata only`);
      server = null;
    }
  };
  const rounds: Rounds = {
    sgemm: Object.fromEntries(SGEMM_SIZES.map((n) => [n, sides<Gemm>()])),
    conv: Object.fromEntries(CONV_LAYERS.map(([name]) => [name, sides<ConvTimes>()])),
    add: sides(),
    train: Object.fromEntries(trainNames.map((m) => [m, sides<Step>()])),
    sequence: Object.fromEntries(SEQUENCE_MODELS.map((m) => [m, sides<Step>()])),
    inference: { ...sides<InferenceRun>(), ort: [] },
    onednnStep: [],
  };
  const buildFailure = buildOnednnStep();
  if (buildFailure) {
    rounds.onednnSkipped = `oneDNN-only step skipped: ${buildFailure}`;
    progress(rounds.onednnSkipped);
  }
  let ort: OrtInference | null = null;
  try {
    ort = await ortConvnetInference(o.threads);
  } catch (e) {
    rounds.inference.ortSkipped = `onnxruntime-node anchor skipped: ${(e as Error).message}`;
    progress(rounds.inference.ortSkipped);
  }
  const { budget } = o;
  for (let r = 0; r < o.rounds; r++) {
    const at = `round ${r + 1}/${o.rounds}`;
    progress(`${at}: sgemm`);
    for (const n of SGEMM_SIZES) {
      rounds.sgemm[n].strata.push(await measureSgemm(n, budget / 2));
      await ask<Gemm>({ cmd: 'sgemm', n, budget: budget / 2 }, rounds.sgemm[n].torch);
    }
    progress(`${at}: conv2d kernels and per-op overhead`);
    for (const [name] of CONV_LAYERS) {
      rounds.conv[name].strata.push(await measureConv(name, budget));
      await ask<ConvTimes>({ cmd: 'conv', layer: name, budget }, rounds.conv[name].torch);
    }
    rounds.add.strata.push(await measureAddOverhead(budget));
    await ask<{ us: number }>({ cmd: 'add', budget }, rounds.add.torch);
    for (const m of trainNames) {
      progress(`${at}: ${m} training steps`);
      rounds.train[m].strata.push(await measureTrainStep(m, budget));
      await ask<Step>({ cmd: 'train', model: m, budget }, rounds.train[m].torch);
      if (m === 'convnet' && !rounds.onednnSkipped) {
        try {
          rounds.onednnStep.push(runOnednnStep(o.threads, budget));
        } catch (e) {
          rounds.onednnSkipped = `oneDNN-only step failed: ${(e as Error).message}`;
          progress(rounds.onednnSkipped);
        }
      }
    }
    for (const m of SEQUENCE_MODELS) {
      progress(`${at}: ${m} training steps`);
      rounds.sequence[m].strata.push(await measureSequenceStep(m, budget));
      await ask<Step>({ cmd: 'sequence', model: m, budget }, rounds.sequence[m].torch);
    }
    progress(`${at}: convnet inference`);
    rounds.inference.strata.push(await measureInference(budget));
    await ask<InferenceRun>({ cmd: 'inference', budget }, rounds.inference.torch);
    if (ort) rounds.inference.ort.push(await ort.measure(budget));
  }
  if (o.full) {
    rounds.fullEpoch = Object.fromEntries(trainNames.map((m) => [m, sides<EpochRun>()]));
    for (let r = 0; r < o.fullRounds; r++) {
      for (const m of trainNames) {
        progress(`round ${r + 1}/${o.fullRounds}: ${m} full epoch (938 steps)`);
        rounds.fullEpoch[m].strata.push(await measureEpoch(m));
        await ask<EpochRun>({ cmd: 'epoch', model: m }, rounds.fullEpoch[m].torch);
      }
    }
  }
  st.setSeed(0);
  return rounds;
}

/** Each side's best round: the one with the least `key` (a median time, an epoch, minus a rate). */
export function best<T>(runs: T[], key: (t: T) => number): T | undefined {
  return runs.length ? runs.reduce((a, b) => (key(b) < key(a) ? b : a)) : undefined;
}

/** "0.61 0.59 0.63": Strata / PyTorch in each round, in order. */
export function perRound(strata: number[], torch: number[]): string {
  if (!torch.length) return '-';
  return strata.map((x, i) => (torch[i] ? (x / torch[i]).toFixed(2) : '-')).join(' ');
}
