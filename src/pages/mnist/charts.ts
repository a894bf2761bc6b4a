// The loss and accuracy curves (uPlot): each step's value, faint (it is noisy: one batch), a
// moving average over the last steps on top, and the held-out test images' value after each
// epoch as points. Redrawn at most a few times a second while training, and at once after an epoch.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { TrainState } from './trainer.js';

/** Steps in the moving average. */
const WINDOW = 20;
const REDRAW_MS = 250;

function movingAverage(values: number[]): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i] - (i >= WINDOW ? values[i - WINDOW] : 0);
    out.push(sum / Math.min(i + 1, WINDOW));
  }
  return out;
}

/** A chart whose x axis spans the whole run from the start (`steps()` says how long), so it never rescales while training. */
function chart(target: HTMLElement, title: string, color: string, steps: () => number, range?: [number, number]): uPlot {
  const noLine = () => null;
  return new uPlot(
    {
      title,
      width: Math.max(240, target.clientWidth),
      height: 170,
      scales: { x: { time: false, range: () => [1, Math.max(2, steps())] }, y: range ? { range } : {} },
      axes: [{}, { size: 48 }],
      legend: { live: false },
      cursor: { show: false },
      series: [
        { label: 'step' },
        { label: 'each step', stroke: `${color}44`, width: 1, points: { show: false } },
        { label: `mean of ${WINDOW} steps`, stroke: color, width: 2, points: { show: false } },
        { label: 'test, after each epoch', stroke: '#1f2328', fill: '#1f2328', paths: noLine, points: { show: true, size: 8 } },
      ],
    },
    [[], [], [], []],
    target,
  );
}

export class Charts {
  private readonly loss: uPlot;
  private readonly accuracy: uPlot;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastDraw = 0;
  /** The run's length in steps. */
  private steps = 2;

  constructor(
    private readonly lossBox: HTMLElement,
    private readonly accuracyBox: HTMLElement,
  ) {
    this.loss = chart(lossBox, 'Loss', '#cf222e', () => this.steps);
    this.accuracy = chart(accuracyBox, 'Accuracy', '#0969da', () => this.steps, [0, 1]);
    addEventListener('resize', () => this.resize());
  }

  /** Fits the charts to their boxes (after the window or the layout changed, as when they are first shown). */
  resize(): void {
    this.loss.setSize({ width: Math.max(240, this.lossBox.clientWidth), height: 170 });
    this.accuracy.setSize({ width: Math.max(240, this.accuracyBox.clientWidth), height: 170 });
  }

  /** Redraws soon (throttled), or now. */
  update(state: TrainState, now = false): void {
    if (now) this.draw(state);
    if (now || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastDraw + REDRAW_MS - performance.now());
    this.timer = setTimeout(() => this.draw(state), wait);
  }

  private draw(state: TrainState): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastDraw = performance.now();
    this.steps = state.totalSteps;
    const steps = state.losses.map((_, i) => i + 1);
    const atEpochs = (pick: (e: TrainState['epochs'][number]) => number) => {
      const column: (number | null)[] = steps.map(() => null);
      for (const e of state.epochs) if (e.step > 0) column[e.step - 1] = pick(e);
      return column;
    };
    this.loss.setData([steps, state.losses, movingAverage(state.losses), atEpochs((e) => e.valLoss)]);
    this.accuracy.setData([steps, state.accuracies, movingAverage(state.accuracies), atEpochs((e) => e.valAccuracy)]);
  }
}
