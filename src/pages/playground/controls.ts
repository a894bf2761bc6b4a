// The page's inputs: the top bar (run buttons, learning rate, activation, regularization, problem
// type) and the data column (data set pictures, ratio, noise and batch sliders, regenerate). They
// report changes as patches of the state; `show` sets them from a state (after a load or a reset).
import { DATASETS, type DatasetName, generate } from './datasets.js';
import { paintPoints } from './heatmap.js';
import { ACTIVATIONS, LEARNING_RATES, type PlaygroundState, REGULARIZATION_RATES, REGULARIZATIONS } from './state-url.js';

export interface ControlActions {
  change(patch: Partial<PlaygroundState>): void;
  togglePlay(): void;
  step(): void;
  reset(): void;
  regenerate(): void;
}

const byId = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

const ACTIVATION_TITLES: Record<string, string> = { relu: 'ReLU', tanh: 'Tanh', sigmoid: 'Sigmoid', linear: 'Linear' };
const REGULARIZATION_TITLES: Record<string, string> = { none: 'None', l1: 'L1', l2: 'L2' };

function fillSelect(select: HTMLSelectElement, values: readonly (string | number)[], title: (v: string) => string = (v) => v): void {
  select.replaceChildren(
    ...values.map((v) => {
      const option = document.createElement('option');
      option.value = String(v);
      option.textContent = title(String(v));
      return option;
    }),
  );
}

export class Controls {
  readonly play = byId<HTMLButtonElement>('play');
  private readonly lr = byId<HTMLSelectElement>('lr');
  private readonly activation = byId<HTMLSelectElement>('activation');
  private readonly regularization = byId<HTMLSelectElement>('regularization');
  private readonly rate = byId<HTMLSelectElement>('rate');
  private readonly problem = byId<HTMLSelectElement>('problem');
  private readonly datasets = byId<HTMLElement>('datasets');
  private readonly sliders = {
    ratio: byId<HTMLInputElement>('ratio'),
    noise: byId<HTMLInputElement>('noise'),
    batch: byId<HTMLInputElement>('batch'),
  };
  private readonly showTest = byId<HTMLInputElement>('show-test');
  private readonly discretize = byId<HTMLInputElement>('discretize');

  constructor(private readonly actions: ControlActions) {
    fillSelect(this.lr, LEARNING_RATES);
    fillSelect(this.activation, ACTIVATIONS, (v) => ACTIVATION_TITLES[v]);
    fillSelect(this.regularization, REGULARIZATIONS, (v) => REGULARIZATION_TITLES[v]);
    fillSelect(this.rate, REGULARIZATION_RATES);
    this.play.addEventListener('click', () => actions.togglePlay());
    byId('step').addEventListener('click', () => actions.step());
    byId('reset').addEventListener('click', () => actions.reset());
    byId('regenerate').addEventListener('click', () => actions.regenerate());
    this.lr.addEventListener('change', () => actions.change({ lr: Number(this.lr.value) }));
    this.activation.addEventListener('change', () => actions.change({ activation: this.activation.value as PlaygroundState['activation'] }));
    this.regularization.addEventListener('change', () =>
      actions.change({ regularization: this.regularization.value as PlaygroundState['regularization'] }),
    );
    this.rate.addEventListener('change', () => actions.change({ regularizationRate: Number(this.rate.value) }));
    this.problem.addEventListener('change', () => {
      const problem = this.problem.value as PlaygroundState['problem'];
      actions.change({ problem, dataset: DATASETS[problem][0].name });
    });
    for (const [key, input] of Object.entries(this.sliders) as [keyof typeof this.sliders, HTMLInputElement][]) {
      // The number follows the thumb while dragging; the data change once, when it is let go.
      input.addEventListener('input', () => this.showSliderValue(key, Number(input.value)));
      input.addEventListener('change', () => actions.change({ [key]: Number(input.value) }));
    }
    this.showTest.addEventListener('change', () => actions.change({ showTest: this.showTest.checked }));
    this.discretize.addEventListener('change', () => actions.change({ discretize: this.discretize.checked }));
  }

  /** Sets every input from the state; the data set pictures are redrawn when the problem type changed. */
  show(state: PlaygroundState): void {
    this.lr.value = String(state.lr);
    this.activation.value = state.activation;
    this.regularization.value = state.regularization;
    this.rate.value = String(state.regularizationRate);
    this.problem.value = state.problem;
    for (const key of ['ratio', 'noise', 'batch'] as const) {
      this.sliders[key].value = String(state[key]);
      this.showSliderValue(key, state[key]);
    }
    this.showTest.checked = state.showTest;
    this.discretize.checked = state.discretize;
    if (this.datasets.dataset.problem !== state.problem) this.renderDatasets(state.problem);
    for (const el of this.datasets.querySelectorAll<HTMLElement>('[data-dataset]')) {
      el.classList.toggle('selected', el.dataset.dataset === state.dataset);
      el.setAttribute('aria-pressed', String(el.dataset.dataset === state.dataset));
    }
  }

  setPlaying(playing: boolean): void {
    this.play.classList.toggle('playing', playing);
    this.play.title = playing ? 'Pause' : 'Run';
    this.play.setAttribute('aria-label', playing ? 'Pause' : 'Run');
  }

  private showSliderValue(key: 'ratio' | 'noise' | 'batch', value: number): void {
    byId(`${key}-value`).textContent = key === 'ratio' ? `${value}% train, ${100 - value}% test` : key === 'noise' ? `${value}%` : String(value);
  }

  /** A small picture of each data set of the problem type (clean points), to pick from. */
  private renderDatasets(problem: PlaygroundState['problem']): void {
    this.datasets.dataset.problem = problem;
    this.datasets.replaceChildren(
      ...DATASETS[problem].map(({ name, title }) => {
        const b = document.createElement('button');
        b.className = 'dataset';
        b.dataset.dataset = name;
        b.title = title;
        const canvas = document.createElement('canvas');
        canvas.width = canvas.height = 96;
        // Fewer, larger dots than the real set: at this size they must read as a shape.
        const { train } = generate(name as DatasetName, 0, 100, 7, 160);
        paintPoints(canvas, train, undefined, 3.2);
        b.append(canvas);
        b.addEventListener('click', () => this.actions.change({ dataset: name }));
        return b;
      }),
    );
  }
}
