// The MNIST page: train the Keras book's convnet in the page or load a run of `strata train`, then
// draw a digit and watch the model read it. The address may preset the training form
// (?images=6400&epochs=1&batch=32&seed=1) and the backend (?backend=wasm|webgpu).
import * as st from '../../browser.js';
import { chooseBackend } from '../shared/backend.js';
import { loadDigits, type Digits } from './data.js';
import { DrawPad } from './draw-pad.js';
import { listModelRuns, loadRun, type RunInfo, testAccuracy } from './load-run.js';
import { type Classifier, type Guess, Reader } from './reader.js';
import './style.css';
import { newState, startTraining, type TrainSettings } from './trainer.js';
import { TrainView } from './train-view.js';

/** Test images: the first ones validate after each epoch (the first 40 also show in the grid). */
const TEST_IMAGES = 1000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** What the tests read (and anyone curious, from the console). */
interface PageState {
  backend: string;
  training: ReturnType<typeof newState>;
  /** The three likeliest classes for the drawing, best first (empty for a blank pad or no model). */
  readonly top3: Guess[];
  /** Drawings read so far, and whether a change waits to be read. */
  readonly reads: number;
  readonly busy: boolean;
  /** The drawing as the model takes it: 784 values in [0, 1]. */
  readonly input: number[] | undefined;
  /** Where the current model came from ('trained here', 'run <name>'), or undefined. */
  model?: string;
  /** The runs with a model, as listed. */
  runs?: string[];
  /** Test digits in the grid, as the model read them after the last epoch. */
  readonly samples: number[];
}

const view = new TrainView();
const pad = new DrawPad($('pad'), () => reader.changed());
const reader = new Reader(pad, $('preview'), $('top3'));
const page: PageState = {
  backend: '',
  training: newState(),
  get top3() {
    return reader.top;
  },
  get reads() {
    return reader.count;
  },
  get busy() {
    return reader.busy;
  },
  get input() {
    return reader.input && [...reader.input];
  },
  get samples() {
    return view.samples.predicted;
  },
};
(window as unknown as { mnistPage: PageState }).mnistPage = page;

function useModel(c: Classifier): void {
  reader.setClassifier(c);
  page.model = c.source;
  $('model-line').textContent = `Reading with the ${c.source} (${c.model.countParams().toLocaleString('en')} weights).`;
}

/** The form's values, first taken from the address where it gives them. */
function presetForm(): void {
  const params = new URLSearchParams(location.search);
  for (const [param, id] of [
    ['images', 'images'],
    ['epochs', 'epochs'],
    ['batch', 'batch'],
  ] as const) {
    const value = params.get(param);
    if (value === null) continue;
    // A batch size the menu does not offer joins it, rather than leaving the menu empty.
    const field = $<HTMLInputElement | HTMLSelectElement>(id);
    if (field instanceof HTMLSelectElement && ![...field.options].some((o) => o.value === value)) field.append(new Option(value));
    field.value = value;
  }
}

function settings(): TrainSettings {
  const seed = new URLSearchParams(location.search).get('seed');
  return {
    images: Number(($('images') as HTMLInputElement).value),
    epochs: Number(($('epochs') as HTMLInputElement).value),
    batchSize: Number(($('batch') as HTMLSelectElement).value),
    seed: seed === null ? undefined : Number(seed),
  };
}

let test: Digits | undefined;
let current: st.Model | undefined;

async function train(): Promise<void> {
  const s = settings();
  $<HTMLButtonElement>('train').disabled = true;
  $<HTMLButtonElement>('load').disabled = true;
  try {
    view.say(`Loading ${s.images.toLocaleString('en')} training images…`);
    test ??= await loadDigits('t10k', TEST_IMAGES);
    view.samples.setImages(test);
    const digits = await loadDigits('train', s.images);
    view.say('Training…');
    $('charts').hidden = false;
    view.charts.resize();
    const run = startTraining(s, digits, test, page.training, {
      onStep: (state) => view.step(state, s.epochs),
      onEpoch: async (state, model) => {
        view.epoch(state);
        const partial = state.step % Math.ceil(s.images / s.batchSize) !== 0;
        await view.samples.update(model, partial ? `after step ${state.step}` : `after epoch ${state.epochs.length}`);
      },
    });
    current = run.model;
    $<HTMLButtonElement>('stop').disabled = false;
    await run.finished;
    digits.x.dispose();
    digits.y.dispose();
    view.finished(page.training);
    if (!page.training.error && page.training.step > 0)
      useModel({ model: run.model, classNames: [...'0123456789'], invert: false, source: 'convnet trained here' });
  } catch (e) {
    view.say(message(e), true);
  } finally {
    current = undefined;
    $<HTMLButtonElement>('stop').disabled = true;
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('load').disabled = runs.length === 0;
  }
}

let runs: RunInfo[] = [];

async function showRuns(): Promise<void> {
  const select = $<HTMLSelectElement>('runs');
  const status = $('run-status');
  try {
    runs = await listModelRuns();
  } catch (e) {
    status.textContent = `Cannot list the runs: ${message(e)}`;
    return;
  }
  page.runs = runs.map((r) => r.name);
  select.replaceChildren();
  if (runs.length === 0) {
    select.append(new Option('No saved models'));
    status.innerHTML =
      'The runs folder this server shows has no saved model yet. Make one with <code>npx strata train</code> (the same convnet on all of MNIST, ' +
      'saved in <code>runs/</code>), then reload this page.';
    return;
  }
  for (const r of runs) select.append(new Option(`${r.name} (${new Date(r.modified).toLocaleString()})`, r.name));
  select.disabled = false;
  $<HTMLButtonElement>('load').disabled = false;
  status.textContent = `${runs.length} saved model${runs.length === 1 ? '' : 's'} in the runs folder.`;
}

async function loadSelected(): Promise<void> {
  const run = runs.find((r) => r.name === $<HTMLSelectElement>('runs').value);
  if (!run) return;
  const status = $('run-status');
  status.classList.remove('error');
  status.textContent = `Loading ${run.name}…`;
  try {
    const [c, accuracy] = await Promise.all([loadRun(run), testAccuracy(run)]);
    useModel(c);
    const measured = accuracy === undefined ? '' : `; it read ${(100 * accuracy).toFixed(2)} % of the test images right at the end of its training`;
    status.textContent = `Loaded ${run.name}: classes ${c.classNames.join(', ')}${measured}.`;
  } catch (e) {
    status.textContent = `Cannot load ${run.name}: ${message(e)}`;
    status.classList.add('error');
  }
}

async function start(): Promise<void> {
  presetForm();
  $('clear').addEventListener('click', () => pad.clear());
  $('stop').addEventListener('click', () => {
    if (current) current.stopTraining = true;
  });
  $('load').addEventListener('click', () => void loadSelected());
  $('train-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void train();
  });
  try {
    const line = await chooseBackend();
    page.backend = st.getBackend().name;
    $('backend').textContent = `Backend: ${line}.`;
  } catch (e) {
    $('backend').textContent = `No backend: ${message(e)}`;
    $('backend').classList.add('error');
    $<HTMLButtonElement>('train').disabled = true;
    return;
  }
  await showRuns();
}

void start();
