// The network diagram: feature nodes (click to turn a feature on or off), a column of neurons per
// hidden layer with +/- buttons, and the output neuron. Each node shows its output over the input
// plane as a small heat map; lines between nodes are the weights (width |w|, color the sign), and
// hovering a line or a bias square shows its value.
import { FEATURES, type FeatureId, featureThumbnail, gridPoints } from './features.js';
import { colorOf, paintHeatmap } from './heatmap.js';
import { type Layout, NODE, layoutNetwork, linkPath } from './network-layout.js';
import type { Forward } from './network.js';
import { MAX_LAYERS, MAX_NEURONS, type PlaygroundState } from './state-url.js';
import './network-view.css';

export interface NetworkActions {
  toggleFeature(id: FeatureId): void;
  setLayers(layers: number[]): void;
}

const SVG = 'http://www.w3.org/2000/svg';
/** Pixels of a node's heat map; CSS shows it at NODE pixels. */
const THUMB = 40;

interface Link {
  visible: SVGPathElement;
  hit: SVGPathElement;
  /** Dense layer, and the kernel entry (row-major [fanIn, units]). */
  layer: number;
  index: number;
}

export class NetworkView {
  private links: Link[] = [];
  /** Canvas and bias square of every neuron, by dense layer (the output is the last). */
  private neurons: { canvas: HTMLCanvasElement; bias: HTMLElement }[][] = [];
  private last: Forward | undefined;
  private readonly tip: HTMLElement;
  private readonly featureGrid = gridPoints(THUMB);

  constructor(
    private readonly root: HTMLElement,
    private readonly header: HTMLElement,
    private readonly actions: NetworkActions,
  ) {
    this.tip = document.createElement('div');
    this.tip.className = 'tip';
  }

  /** Rebuilds the diagram for the state's features and layers (the weights come with the next update). */
  rebuild(state: PlaygroundState): void {
    this.renderHeader(state.layers);
    const layout = layoutNetwork(this.root.clientWidth, FEATURES.length, state.layers);
    this.root.replaceChildren();
    this.root.style.height = `${layout.height}px`;
    const svg = document.createElementNS(SVG, 'svg');
    svg.classList.add('links');
    svg.setAttribute('width', String(layout.width));
    svg.setAttribute('height', String(layout.height));
    this.root.append(svg, this.tip);
    this.links = [];
    this.neurons = [];
    this.last = undefined;
    this.renderFeatures(state, layout);
    this.renderLayerControls(state.layers, layout);
    for (let c = 1; c < layout.columns.length; c++) {
      const isOutput = c === layout.columns.length - 1;
      this.neurons.push(layout.columns[c].map((place, j) => this.neuronNode(place, c - 1, j, isOutput)));
    }
    // Links from the active features into the first layer, then between consecutive layers.
    const featureRows = state.features.map((id) => FEATURES.findIndex((f) => f.id === id));
    for (let c = 1; c < layout.columns.length; c++) {
      const sources = c === 1 ? featureRows : layout.columns[c - 1].map((_, i) => i);
      const units = layout.columns[c].length;
      sources.forEach((sourceNode, i) => {
        layout.columns[c].forEach((target, j) => this.addLink(svg, layout.columns[c - 1][sourceNode], target, c - 1, i * units + j));
      });
    }
  }

  /** Redraws every neuron's heat map and every weight from one forward pass over the grid (rows 0 .. n²-1). */
  update(forward: Forward, gridN: number, discretizeOutput: boolean): void {
    this.last = forward;
    forward.layerOutputs.forEach((values, l) => {
      const units = forward.biases[l].length;
      this.neurons[l]?.forEach(({ canvas, bias }, j) => {
        const isOutput = l === forward.layerOutputs.length - 1;
        paintHeatmap(canvas, { values, n: gridN, stride: units, column: j }, THUMB, isOutput && discretizeOutput);
        bias.style.background = colorOf(forward.biases[l][j]);
      });
    });
    for (const link of this.links) {
      const w = forward.kernels[link.layer]?.[link.index] ?? 0;
      link.visible.setAttribute('stroke', colorOf(w));
      // Width grows with |w| and saturates, so one large weight does not swamp the picture.
      link.visible.setAttribute('stroke-width', (0.6 + Math.min(Math.abs(w), 5) * 1.6).toFixed(2));
    }
  }

  private renderHeader(layers: readonly number[]): void {
    this.header.replaceChildren();
    const add = button('+', 'Add a hidden layer', layers.length >= MAX_LAYERS, () => this.actions.setLayers([...layers, 2]));
    const remove = button('−', 'Remove the last hidden layer', layers.length === 0, () => this.actions.setLayers(layers.slice(0, -1)));
    add.id = 'add-layer';
    remove.id = 'remove-layer';
    const label = document.createElement('span');
    label.id = 'layer-count';
    label.textContent = `${layers.length} hidden layer${layers.length === 1 ? '' : 's'}`;
    this.header.append(add, remove, label);
  }

  private renderFeatures(state: PlaygroundState, layout: Layout): void {
    FEATURES.forEach((feature, i) => {
      const place = layout.columns[0][i];
      const node = document.createElement('div');
      const on = state.features.includes(feature.id);
      node.className = `node feature${on ? '' : ' off'}`;
      node.dataset.feature = feature.id;
      node.title = `${feature.text}: click to turn ${on ? 'off' : 'on'}`;
      node.setAttribute('role', 'checkbox');
      node.setAttribute('aria-checked', String(on));
      Object.assign(node.style, { left: `${place.x}px`, top: `${place.y}px` });
      const canvas = document.createElement('canvas');
      paintHeatmap(canvas, { values: featureThumbnail(feature.id, this.featureGrid), n: THUMB }, THUMB);
      const label = document.createElement('span');
      label.className = 'feature-label';
      label.innerHTML = feature.label;
      node.append(canvas, label);
      node.tabIndex = 0;
      node.addEventListener('click', () => this.actions.toggleFeature(feature.id));
      node.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter' && e.key !== ' ') return;
        e.preventDefault();
        this.actions.toggleFeature(feature.id);
      });
      this.root.append(node);
    });
  }

  private renderLayerControls(layers: readonly number[], layout: Layout): void {
    layers.forEach((units, l) => {
      const box = document.createElement('div');
      box.className = 'layer-controls';
      box.style.left = `${layout.columnX[l + 1] + NODE / 2}px`;
      const change = (delta: number) => () => this.actions.setLayers(layers.map((u, k) => (k === l ? u + delta : u)));
      const plus = button('+', 'Add a neuron', units >= MAX_NEURONS, change(1));
      const minus = button('−', 'Remove a neuron', units <= 1, change(-1));
      plus.dataset.addNeuron = String(l);
      minus.dataset.removeNeuron = String(l);
      const label = document.createElement('div');
      label.className = 'muted';
      label.textContent = `${units} neuron${units === 1 ? '' : 's'}`;
      box.append(plus, minus, label);
      this.root.append(box);
    });
  }

  private neuronNode(
    place: { x: number; y: number },
    layer: number,
    unit: number,
    isOutput: boolean,
  ): { canvas: HTMLCanvasElement; bias: HTMLElement } {
    const node = document.createElement('div');
    node.className = isOutput ? 'node output-node' : 'node';
    node.title = isOutput ? 'The output neuron' : `Layer ${layer + 1}, neuron ${unit + 1}: its output over the plane`;
    Object.assign(node.style, { left: `${place.x}px`, top: `${place.y}px` });
    const canvas = document.createElement('canvas');
    const bias = document.createElement('div');
    bias.className = 'bias';
    bias.addEventListener('mouseenter', () => {
      const b = this.last?.biases[layer]?.[unit];
      this.showTip(place.x - 6, place.y + NODE, b === undefined ? 'bias' : `Bias ${b.toFixed(3)}`);
    });
    bias.addEventListener('mouseleave', () => this.hideTip());
    node.append(canvas, bias);
    this.root.append(node);
    return { canvas, bias };
  }

  private addLink(svg: SVGSVGElement, from: { x: number; y: number }, to: { x: number; y: number }, layer: number, index: number): void {
    const d = linkPath(from, to);
    const visible = document.createElementNS(SVG, 'path');
    visible.setAttribute('d', d);
    visible.classList.add('link');
    // A wide transparent twin under the pointer makes thin lines easy to hover.
    const hit = document.createElementNS(SVG, 'path');
    hit.setAttribute('d', d);
    hit.classList.add('link-hit');
    hit.dataset.layer = String(layer);
    hit.dataset.index = String(index);
    hit.addEventListener('mousemove', (e) => {
      const w = this.last?.kernels[layer]?.[index];
      const box = this.root.getBoundingClientRect();
      this.showTip(e.clientX - box.left + 12, e.clientY - box.top + 12, w === undefined ? 'weight' : `Weight ${w.toFixed(3)}`);
      visible.classList.add('hover');
    });
    hit.addEventListener('mouseleave', () => {
      this.hideTip();
      visible.classList.remove('hover');
    });
    svg.append(visible, hit);
    this.links.push({ visible, hit, layer, index });
  }

  private showTip(x: number, y: number, text: string): void {
    this.tip.textContent = text;
    Object.assign(this.tip.style, { left: `${x}px`, top: `${y}px`, display: 'block' });
  }

  private hideTip(): void {
    this.tip.style.display = 'none';
  }
}

function button(text: string, title: string, disabled: boolean, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.className = 'round';
  b.textContent = text;
  b.title = title;
  b.disabled = disabled;
  b.addEventListener('click', onClick);
  return b;
}
