// The training and test loss against the epoch, redrawn with every frame (uPlot: a canvas chart
// that redraws thousands of points in well under a millisecond).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export class LossChart {
  private readonly plot: uPlot;

  constructor(target: HTMLElement, width: number) {
    this.plot = new uPlot(
      {
        width,
        height: 110,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(0.05, Number.isFinite(max) ? max : 1)] } },
        axes: [
          { size: 28, font: '11px system-ui', ticks: { show: false }, grid: { stroke: '#eee' } },
          { size: 38, font: '11px system-ui', ticks: { show: false }, grid: { stroke: '#eee' } },
        ],
        series: [
          { label: 'epoch' },
          { label: 'training loss', stroke: '#8a8f98', width: 1.5, points: { show: false } },
          { label: 'test loss', stroke: '#1f2328', width: 1.5, points: { show: false } },
        ],
      },
      [[], [], []],
      target,
    );
  }

  set(epochs: readonly number[], train: readonly number[], test: readonly number[]): void {
    this.plot.setData([epochs as number[], train as number[], test as number[]]);
  }

  resize(width: number): void {
    this.plot.setSize({ width, height: 110 });
  }
}
