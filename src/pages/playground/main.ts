// The neural network playground: pick a data set, features and a network, train it in the page
// with Strata and watch every neuron and the decision boundary change. This module holds the
// state and routes changes: data and network changes rebuild (and pause), the learning rate and
// batch size apply to the running training, display options only redraw.
import * as st from '../../browser.js';
import { chooseBackend } from '../shared/backend.js';
import { Controls } from './controls.js';
import { type Split, generate, problemOf } from './datasets.js';
import { FEATURE_IDS, type FeatureId } from './features.js';
import { NetworkView } from './network-view.js';
import { OutputView } from './output-view.js';
import { type PlaygroundState, parseState, serializeState } from './state-url.js';
import { type Frame, GRID, Trainer } from './trainer.js';
import './playground.css';

let state: PlaygroundState = parseState(location.hash);
let split: Split = { train: [], test: [] };
let lastFrame: Frame | undefined;
const errors: string[] = [];
const status = document.getElementById('status') as HTMLElement;

const showError = (e: unknown): void => {
  const message = e instanceof Error ? e.message : String(e);
  errors.push(message);
  status.textContent = `Error: ${message}`;
  status.classList.add('error');
  console.error(e);
};

const output = new OutputView();
/** True when the frame comes from the network the state describes (not the last one of a network being replaced). */
function current(frame: Frame): boolean {
  const units = frame.forward.biases.map((b) => b.length);
  return JSON.stringify(units) === JSON.stringify([...state.layers, 1]) && frame.forward.kernels[0].length === state.features.length * units[0];
}

function drawFrame(frame: Frame): void {
  if (!current(frame)) return;
  lastFrame = frame;
  output.render(frame, trainer.history, state);
  view.update(frame.forward, GRID, state.discretize);
}
const trainer = new Trainer(drawFrame, showError);

/** Keys whose change needs new data; the others of REBUILD need only a new network. */
const DATA_KEYS: (keyof PlaygroundState)[] = ['dataset', 'problem', 'noise', 'ratio', 'seed'];
const REBUILD_KEYS: (keyof PlaygroundState)[] = [...DATA_KEYS, 'features', 'layers', 'activation', 'regularization', 'regularizationRate'];

function writeUrl(): void {
  // replaceState: tuning a setting should not fill the back button's history; ?backend= stays.
  history.replaceState(null, '', `${location.pathname}${location.search}#${serializeState(state)}`);
}

async function rebuild(newData: boolean): Promise<void> {
  controls.setPlaying(false);
  if (newData) split = generate(state.dataset, state.noise, state.ratio, state.seed);
  output.setPoints(split, state.showTest);
  view.rebuild(state);
  await trainer.setup({
    split,
    features: state.features,
    batch: state.batch,
    network: {
      inputs: state.features.length,
      layers: state.layers,
      activation: state.activation,
      problem: state.problem,
      lr: state.lr,
      regularization: state.regularization,
      regularizationRate: state.regularizationRate,
      seed: state.seed,
    },
  });
}

function change(patch: Partial<PlaygroundState>): void {
  const next = { ...state, ...patch };
  if (patch.dataset) next.problem = problemOf(patch.dataset);
  const changed = (Object.keys(patch) as (keyof PlaygroundState)[]).filter((k) => JSON.stringify(state[k]) !== JSON.stringify(next[k]));
  if (changed.length === 0) return;
  state = next;
  writeUrl();
  controls.show(state);
  if (changed.some((k) => REBUILD_KEYS.includes(k))) void rebuild(changed.some((k) => DATA_KEYS.includes(k)));
  else {
    if (changed.includes('lr')) trainer.setLearningRate(state.lr);
    if (changed.includes('batch')) trainer.batch = state.batch;
    if (lastFrame && (changed.includes('showTest') || changed.includes('discretize'))) drawFrame(lastFrame);
  }
}

const controls = new Controls({
  change,
  togglePlay: () => {
    if (trainer.playing) void trainer.pause().then(() => controls.setPlaying(false));
    else {
      trainer.play();
      controls.setPlaying(trainer.playing);
    }
  },
  step: () => {
    controls.setPlaying(false);
    void trainer.step();
  },
  reset: () => void rebuild(false),
  regenerate: () => change({ seed: Math.floor(Math.random() * 1_000_000) }),
});

const view = new NetworkView(document.getElementById('network') as HTMLElement, document.getElementById('layers-header') as HTMLElement, {
  toggleFeature: (id: FeatureId) => {
    const on = new Set(state.features);
    if (on.has(id)) on.delete(id);
    else on.add(id);
    // The network needs at least one input.
    if (on.size > 0) change({ features: FEATURE_IDS.filter((f) => on.has(f)) });
  },
  setLayers: (layers) => change({ layers }),
});

// A link edited by hand, or the back button: take the whole state from the address again.
window.addEventListener('hashchange', () => {
  const parsed = parseState(location.hash);
  if (serializeState(parsed) !== serializeState(state)) change(parsed);
});

// The network diagram spreads its columns over the space it has.
let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    view.rebuild(state);
    if (lastFrame) drawFrame(lastFrame);
  }, 150);
});

/** What tests and curious users can read: the live state and numbers of the page. */
const playground = {
  get state() {
    return state;
  },
  get epoch() {
    return trainer.epoch;
  },
  get trainLoss() {
    return trainer.trainLoss;
  },
  get testLoss() {
    return trainer.testLoss;
  },
  get framesDrawn() {
    return trainer.framesDrawn;
  },
  get drawMs() {
    return trainer.drawMs;
  },
  get playing() {
    return trainer.playing;
  },
  get layers() {
    return state.layers.slice();
  },
  ready: false,
  backend: '',
  errors,
  memory: () => st.memory(),
};
(window as unknown as { playground: typeof playground }).playground = playground;

try {
  playground.backend = await chooseBackend();
  status.textContent = `Strata ${st.version} on ${playground.backend}`;
  controls.show(state);
  writeUrl();
  await rebuild(true);
  playground.ready = true;
} catch (e) {
  showError(e);
}
