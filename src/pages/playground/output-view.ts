// The output column: the two losses, their curves, and the network's answer over the plane as a
// large heat map with the data points on top.
import type { Split } from './datasets.js';
import { paintHeatmap, paintPoints } from './heatmap.js';
import { LossChart } from './loss-chart.js';
import type { PlaygroundState } from './state-url.js';
import { type Frame, GRID } from './trainer.js';

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** Losses as the playground shows them: three decimals, a dash before there is one. */
const formatLoss = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '–');

export class OutputView {
  private readonly heatmap = byId<HTMLCanvasElement>('heatmap');
  private readonly points = byId<HTMLCanvasElement>('points');
  private readonly trainLoss = byId<HTMLElement>('train-loss');
  private readonly testLoss = byId<HTMLElement>('test-loss');
  private readonly epoch = byId<HTMLElement>('epoch');
  private readonly chart: LossChart;
  private split: Split = { train: [], test: [] };
  private showTest = false;

  constructor() {
    const chartBox = byId<HTMLElement>('chart');
    this.chart = new LossChart(chartBox, chartBox.clientWidth || 300);
    // The points' canvas at the screen's resolution, so the dots stay round and sharp.
    const css = this.points.getBoundingClientRect().width || 300;
    this.points.width = this.points.height = Math.round(css * (window.devicePixelRatio || 1));
  }

  /** New data, or the test points shown or hidden: the points layer is redrawn (not the heat map). */
  setPoints(split: Split, showTest: boolean): void {
    this.split = split;
    this.showTest = showTest;
    paintPoints(this.points, split.train, showTest ? split.test : undefined);
  }

  render(frame: Frame, history: { epoch: number[]; train: number[]; test: number[] }, state: PlaygroundState): void {
    const output = frame.forward.layerOutputs[frame.forward.layerOutputs.length - 1];
    paintHeatmap(this.heatmap, { values: output, n: GRID }, GRID, state.discretize);
    if (state.showTest !== this.showTest) this.setPoints(this.split, state.showTest);
    this.trainLoss.textContent = formatLoss(frame.trainLoss);
    this.testLoss.textContent = formatLoss(frame.testLoss);
    this.showEpoch(frame.epoch);
    this.chart.set(history.epoch, history.train, history.test);
  }

  /** Six digits with thousands separators, as an odometer. */
  showEpoch(epoch: number): void {
    const digits = String(epoch).padStart(6, '0');
    this.epoch.textContent = `${digits.slice(0, -3)},${digits.slice(-3)}`;
  }
}
