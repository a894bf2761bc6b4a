// The training loop: one epoch of Strata's fit at a time, a redraw (one batched forward pass over
// the grid and the points) whenever the last one is older than DRAW_EVERY_MS, and a yield to the
// browser every YIELD_EVERY_MS so the page stays responsive. Operations that replace the network
// or the data wait for the loop to stop first, one at a time.
import * as st from '../../browser.js';
import type { Point, Split } from './datasets.js';
import { type FeatureId, featureMatrix, gridPoints } from './features.js';
import { type Forward, Network, type NetworkConfig } from './network.js';

/** The output heat map's grid: GRID × GRID points over the input plane. */
export const GRID = 100;
/** About 15 redraws a second while training: above the 10 that reads as live, leaving most of the time to training. */
const DRAW_EVERY_MS = 60;
const YIELD_EVERY_MS = 16;
const MAX_HISTORY = 2000;

export interface Frame {
  forward: Forward;
  epoch: number;
  trainLoss: number;
  testLoss: number;
}

export interface Setup {
  split: Split;
  features: FeatureId[];
  network: NetworkConfig;
  batch: number;
}

/** A macrotask boundary without setTimeout's clamping: input events and rendering get their turn. */
function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

/** ½·mean((output − label)²) over rows [from, from + points.length) of the output column. */
function halfSquaredError(output: Float32Array, from: number, points: readonly Point[]): number {
  if (points.length === 0) return Number.NaN;
  let sum = 0;
  points.forEach((p, i) => {
    sum += (output[from + i] - p.label) ** 2;
  });
  return (0.5 * sum) / points.length;
}

export class Trainer {
  epoch = 0;
  trainLoss = Number.NaN;
  testLoss = Number.NaN;
  framesDrawn = 0;
  /** How long the last redraw took (forward pass, reads, painting), for the curious and the tests. */
  drawMs = 0;
  playing = false;
  /** Loss curves, one entry per redraw. */
  readonly history = { epoch: [] as number[], train: [] as number[], test: [] as number[] };
  batch = 10;
  private network: Network | undefined;
  private split: Split = { train: [], test: [] };
  private tensors: st.Tensor[] = [];
  private xTrain: st.Tensor | undefined;
  private yTrain: st.Tensor | undefined;
  /** The grid's features, then the training points', then the test points': the one batch every redraw runs. */
  private xEval: st.Tensor | undefined;
  private loop: Promise<void> = Promise.resolve();
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Replaces data, features and network (training pauses) and draws the untrained network once. */
  setup(s: Setup): Promise<void> {
    return this.exclusive(async () => {
      await this.halt();
      this.network?.dispose();
      for (const t of this.tensors) t.dispose();
      this.split = s.split;
      this.batch = s.batch;
      const f = s.features.length;
      const { train, test } = s.split;
      this.xTrain = st.tensor(featureMatrix(train, s.features), [train.length, f]);
      this.yTrain = st.tensor(
        Float32Array.from(train, (p) => p.label),
        [train.length, 1],
      );
      const rows = [...gridPoints(GRID), ...train, ...test];
      this.xEval = st.tensor(featureMatrix(rows, s.features), [rows.length, f]);
      this.tensors = [this.xTrain, this.yTrain, this.xEval];
      this.network = new Network(s.network);
      this.epoch = 0;
      this.history.epoch.length = this.history.train.length = this.history.test.length = 0;
      await this.draw();
    });
  }

  setLearningRate(lr: number): void {
    this.network?.setLearningRate(lr);
  }

  play(): void {
    if (this.playing || !this.network) return;
    this.playing = true;
    this.loop = this.run().catch((e) => {
      this.playing = false;
      this.onError(e);
    });
  }

  pause(): Promise<void> {
    return this.exclusive(() => this.halt());
  }

  /** One epoch, then a redraw (paused, like the playground's step button). */
  step(): Promise<void> {
    return this.exclusive(async () => {
      await this.halt();
      await this.trainEpoch();
      await this.draw();
    });
  }

  private async run(): Promise<void> {
    let lastDraw = performance.now();
    let lastYield = performance.now();
    while (this.playing) {
      await this.trainEpoch();
      if (performance.now() - lastDraw >= DRAW_EVERY_MS) {
        lastDraw = performance.now();
        await this.draw();
      }
      if (performance.now() - lastYield >= YIELD_EVERY_MS) {
        await nextTask();
        lastYield = performance.now();
      }
    }
    await this.draw();
  }

  private async trainEpoch(): Promise<void> {
    if (!this.network || !this.xTrain || !this.yTrain || this.split.train.length === 0) return;
    await this.network.fit(this.xTrain, this.yTrain, 1, this.batch);
    this.epoch++;
  }

  private async draw(): Promise<void> {
    if (!this.network || !this.xEval) return;
    const start = performance.now();
    const forward = await this.network.forward(this.xEval);
    const output = forward.layerOutputs[forward.layerOutputs.length - 1];
    const g = GRID * GRID;
    this.trainLoss = halfSquaredError(output, g, this.split.train);
    this.testLoss = halfSquaredError(output, g + this.split.train.length, this.split.test);
    const h = this.history;
    h.epoch.push(this.epoch);
    h.train.push(this.trainLoss);
    h.test.push(this.testLoss);
    // A long run keeps every other old point, so the chart stays cheap to draw.
    if (h.epoch.length > MAX_HISTORY)
      for (const series of [h.epoch, h.train, h.test])
        series.splice(0, series.length, ...series.filter((_, i) => i % 2 === 0 || i === series.length - 1));
    this.framesDrawn++;
    this.onFrame({ forward, epoch: this.epoch, trainLoss: this.trainLoss, testLoss: this.testLoss });
    this.drawMs = performance.now() - start;
  }

  /** Stops the loop and waits for its last epoch and redraw. */
  private async halt(): Promise<void> {
    this.playing = false;
    await this.loop;
  }

  /** Runs one replacing operation at a time, in call order; a failure goes to onError and the queue goes on. */
  private exclusive(fn: () => Promise<void>): Promise<void> {
    const next = this.queue.then(fn).catch((e) => this.onError(e));
    this.queue = next;
    return next;
  }
}
