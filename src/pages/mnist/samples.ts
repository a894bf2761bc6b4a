// A grid of test digits with what the model reads in each, refreshed after every epoch; a wrong
// reading is marked in red with the true label beside it.
import * as st from '../../browser.js';
import type { Digits } from './data.js';

const SIDE = 28;

export class SampleGrid {
  private readonly cells: { label: HTMLElement; cell: HTMLElement }[] = [];
  private x: st.Tensor | undefined;
  /** Predicted labels from the last update (empty before one). */
  predicted: number[] = [];

  constructor(
    private readonly box: HTMLElement,
    private readonly summary: HTMLElement,
    readonly count: number,
  ) {}

  /** Shows the first `count` images of `test`, unlabelled until the first update. */
  setImages(test: Digits): void {
    this.box.replaceChildren();
    this.cells.length = 0;
    this.x?.dispose();
    this.x = st.slice(test.x, [0], [this.count]);
    for (let i = 0; i < this.count; i++) {
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = SIDE;
      const ctx = canvas.getContext('2d')!;
      const image = ctx.createImageData(SIDE, SIDE);
      for (let p = 0; p < SIDE * SIDE; p++) {
        const v = test.pixels[i * SIDE * SIDE + p];
        image.data.set([v, v, v, 255], 4 * p);
      }
      ctx.putImageData(image, 0, 0);
      const cell = document.createElement('figure');
      cell.className = 'sample';
      cell.dataset.truth = String(test.labels[i]);
      const label = document.createElement('figcaption');
      label.textContent = '·';
      cell.append(canvas, label);
      this.box.append(cell);
      this.cells.push({ cell, label });
    }
    this.summary.textContent = '';
  }

  /** Reads the images with `model` and labels them; `when` says at which point of training ('after epoch 2'). */
  async update(model: st.Model, when: string): Promise<void> {
    if (!this.x) return;
    const probabilities = model.predict(this.x) as st.Tensor;
    const best = st.argMax(probabilities, -1);
    this.predicted = [...((await best.data()) as Int32Array)];
    probabilities.dispose();
    best.dispose();
    let wrong = 0;
    for (const [i, { cell, label }] of this.cells.entries()) {
      const truth = Number(cell.dataset.truth);
      const ok = this.predicted[i] === truth;
      if (!ok) wrong++;
      cell.classList.toggle('wrong', !ok);
      label.textContent = ok ? String(this.predicted[i]) : `${this.predicted[i]} (is ${truth})`;
      cell.title = ok ? `read as ${this.predicted[i]}` : `read as ${this.predicted[i]}; the label is ${truth}`;
    }
    this.summary.textContent = `${when}: ${this.count - wrong} of ${this.count} right${wrong ? ', the wrong ones in red' : ''}`;
  }
}
