// Reads the digit on the pad with the current model: the MNIST preprocessing, a 28x28 preview of
// what the model sees, and the three likeliest classes. A prediction runs at most once per frame
// and never two at once: pointer moves only mark the drawing changed, and the next frame predicts
// if none is in flight (else the one in flight, when it ends, starts the next).
import * as st from '../../browser.js';
import type { DrawPad } from './draw-pad.js';
import { SIDE, toMnist } from './preprocess.js';

/** A model and what the page must know to feed it and name its outputs. */
export interface Classifier {
  model: st.Model;
  classNames: string[];
  /** True when the model was trained on dark ink on a light background (the pad draws the other way). */
  invert: boolean;
  /** Where it came from, for the page to say. */
  source: string;
}

export interface Guess {
  index: number;
  label: string;
  probability: number;
}

/** Probabilities from a model's outputs: softmax outputs as they are, anything else (logits) through a softmax. */
function probabilities(out: Float32Array): Float32Array {
  let sum = 0;
  for (const v of out) sum += v;
  if (out.every((v) => v >= 0) && Math.abs(sum - 1) < 1e-3) return out;
  const top = Math.max(...out);
  const e = out.map((v) => Math.exp(v - top));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

export class Reader {
  private classifier: Classifier | undefined;
  private inFlight = false;
  private dirty = false;
  private frame = 0;
  /** The last top three (empty for a blank pad or no model). */
  top: Guess[] = [];
  /** The last preprocessed drawing (784 values), as the model was given it before any inversion. */
  input: Float32Array | undefined;
  /** Drawings read so far. */
  count = 0;

  constructor(
    private readonly pad: DrawPad,
    private readonly preview: HTMLCanvasElement,
    private readonly list: HTMLElement,
  ) {
    preview.width = SIDE;
    preview.height = SIDE;
  }

  /** True while a change of the drawing or of the model waits to be read (the tests wait for false). */
  get busy(): boolean {
    return this.dirty || this.inFlight || this.frame !== 0;
  }

  setClassifier(c: Classifier | undefined): void {
    this.classifier = c;
    this.changed();
  }

  /** The drawing changed: read it again on the next frame. */
  changed(): void {
    this.dirty = true;
    if (this.frame || this.inFlight) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      void this.read();
    });
  }

  private async read(): Promise<void> {
    this.dirty = false;
    this.inFlight = true;
    try {
      const input = this.pad.hasInk ? toMnist(this.pad.pixels()) : undefined;
      this.input = input;
      this.showPreview(input);
      this.top = input && this.classifier ? await this.predict(this.classifier, input) : [];
      this.count++;
      this.showTop(input === undefined);
    } catch (e) {
      this.list.textContent = `cannot read the digit: ${e instanceof Error ? e.message : String(e)}`;
    } finally {
      this.inFlight = false;
      if (this.dirty) this.changed();
    }
  }

  private async predict(c: Classifier, input: Float32Array): Promise<Guess[]> {
    const values = c.invert ? input.map((v) => 1 - v) : input;
    const shape = c.model.inputs[0]?.shape.slice(1) ?? [SIDE, SIDE, 1];
    const x = st.tensor(values, [1, ...shape.map((d) => d ?? 1)]);
    const out = c.model.predict(x) as st.Tensor;
    x.dispose();
    const p = probabilities((await out.data()) as Float32Array);
    out.dispose();
    return [...p]
      .map((probability, index) => ({ index, probability, label: c.classNames[index] ?? String(index) }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, 3);
  }

  private showPreview(input: Float32Array | undefined): void {
    const ctx = this.preview.getContext('2d')!;
    const image = ctx.createImageData(SIDE, SIDE);
    for (let i = 0; i < SIDE * SIDE; i++) {
      const v = Math.round(255 * (input?.[i] ?? 0));
      image.data.set([v, v, v, 255], 4 * i);
    }
    ctx.putImageData(image, 0, 0);
  }

  private showTop(blank: boolean): void {
    this.list.replaceChildren();
    if (!this.classifier || blank) {
      const note = document.createElement('p');
      note.className = 'muted';
      note.textContent = this.classifier ? 'Draw a digit in the black square.' : 'Train a model or load a run first; then draw.';
      this.list.append(note);
      return;
    }
    for (const [rank, g] of this.top.entries()) {
      const row = document.createElement('div');
      row.className = rank === 0 ? 'guess first' : 'guess';
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = g.label;
      const bar = document.createElement('span');
      bar.className = 'bar';
      const fill = document.createElement('span');
      fill.style.width = `${(100 * g.probability).toFixed(1)}%`;
      bar.append(fill);
      const percent = document.createElement('span');
      percent.className = 'percent';
      percent.textContent = g.probability < 0.0005 ? '< 0.1 %' : `${(100 * g.probability).toFixed(1)} %`;
      row.append(label, bar, percent);
      this.list.append(row);
    }
  }
}
