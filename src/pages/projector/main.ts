// The embedding projector page that `strata project` writes: one layer's activations of test
// images, reduced to 2-D or 3-D, coloured by class. Hovering a point shows its image, its label
// and the model's prediction; the legend hides classes and rings the misclassified points. The
// command inlines this script, its CSS and the data (a JSON script element) into one HTML file,
// so the page works opened from disk with no server and no network. It exposes its state as
// window.projector for the browser test.
import '../shared/style.css';
import './projector.css';
import type { ProjectorData } from '../../cli/projector-data.js';
import { ScatterView } from './scatter.js';

const data = JSON.parse(document.getElementById('projector-data')!.textContent!) as ProjectorData;

/** d3's category10 for up to ten classes (MNIST's digits); more classes get hues a golden angle apart. */
const CATEGORY10 = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const colors = data.classNames.map((_, i) => (data.classNames.length <= 10 ? CATEGORY10[i] : `hsl(${Math.round((i * 137.508) % 360)} 65% 45%)`));

/** An element with children; strings become text nodes, so names from folders are never read as HTML. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

const percent = (v: number) => `${(v * 100).toFixed(1)} %`;
const n = data.labels.length;
const wrong = data.labels.map((l, i) => l !== data.predicted[i]);
const mistakes = wrong.filter(Boolean).length;
const className = (c: number) => data.classNames[c] ?? String(c);

function describeMethod(): (Node | string)[] {
  const dims = `${data.dims}-D`;
  if (data.method === 'pca' && data.explainedVarianceRatio) {
    const shares = data.explainedVarianceRatio.map((r, i) => `${data.axes[i]} ${percent(r)}`).join(', ');
    const total = data.explainedVarianceRatio.reduce((a, b) => a + b, 0);
    return [`PCA to ${dims}: explained variance ${shares} (${percent(total)} together).`];
  }
  return [`${data.methodDetail}, to ${dims}.`];
}

const canvas = el('canvas', { id: 'plot', 'aria-label': 'scatter plot of the projected activations' });
const thumb = el('canvas', { id: 'thumb' });
const caption = el('div', { id: 'tip-text' });
const tooltip = el('div', { id: 'tooltip', hidden: '' }, thumb, caption);
const legend = el('ul', { id: 'legend' });
const ringBox = el('input', { type: 'checkbox', id: 'ring' });

document.title = `${data.layer.name} · ${data.run} · Strata projector`;
document.body.append(
  el('header', { class: 'top' }, el('h1', {}, 'Strata'), el('span', { class: 'muted' }, 'embedding projector')),
  el(
    'main',
    { class: 'projector' },
    el(
      'section',
      { class: 'panel info' },
      el(
        'h2',
        {},
        'Layer ',
        el('code', {}, data.layer.name),
        ` (${data.layer.className}, output ${JSON.stringify(data.layer.shape)}) of `,
        el('code', {}, data.model),
      ),
      el('p', { id: 'method' }, `${data.features.toLocaleString('en')} activations per image. `, ...describeMethod()),
      el(
        'p',
        { class: 'muted' },
        `${n.toLocaleString('en')} images: ${data.testSplit}. The model classifies ${percent(1 - mistakes / n)} of them correctly. Run `,
        el('code', {}, data.run),
        '.',
      ),
    ),
    el(
      'div',
      { class: 'view' },
      el('div', { class: 'plot' }, canvas, tooltip),
      el(
        'aside',
        { class: 'panel side' },
        el('h3', {}, 'Classes'),
        legend,
        el('label', { class: 'ring' }, ringBox, ` ring the ${mistakes} misclassified`),
        el(
          'p',
          { class: 'muted hint' },
          `Hover a point for its image. ${data.dims === 3 ? 'Drag to rotate' : 'Drag to pan'}, scroll to zoom, double-click to reset. Click a class to hide or show it.`,
        ),
      ),
    ),
    el(
      'p',
      { class: 'muted small' },
      `Activations computed in ${data.seconds.activations.toFixed(1)} s; ${data.methodDetail}: ${data.seconds.reduction.toFixed(1)} s.`,
    ),
  ),
);

const view = new ScatterView(canvas, { points: data.points, dims: data.dims, classes: data.labels, colors, axes: data.axes });
let frame = 0;
const redraw = () => {
  if (!frame)
    frame = requestAnimationFrame(() => {
      frame = 0;
      view.draw();
    });
};

const counts = data.classNames.map((_, c) => data.labels.filter((l) => l === c).length);
data.classNames.forEach((name, c) => {
  const item = el(
    'li',
    { 'data-class': String(c) },
    el('span', { class: 'swatch', style: `background:${colors[c]}` }),
    name,
    el('span', { class: 'muted' }, ` ${counts[c]}`),
  );
  item.addEventListener('click', () => {
    view.shown[c] = !view.shown[c];
    item.classList.toggle('off', !view.shown[c]);
    redraw();
  });
  legend.append(item);
});
ringBox.addEventListener('change', () => {
  view.ringed = ringBox.checked ? wrong : undefined;
  redraw();
});

// The thumbnails: one sprite image, sample i at column i % columns, row floor(i / columns).
const sprite = new Image();
let spriteReady = false;
sprite.onload = () => {
  spriteReady = true;
  if (view.hovered >= 0) showTip(view.hovered);
};
sprite.src = data.sprite.url;
const { width: tw, height: th, columns } = data.sprite;
const zoom = Math.max(1, Math.floor(96 / Math.max(tw, th)));
thumb.width = tw * zoom;
thumb.height = th * zoom;

function showTip(i: number): void {
  const g = thumb.getContext('2d')!;
  g.imageSmoothingEnabled = false;
  g.clearRect(0, 0, thumb.width, thumb.height);
  if (spriteReady) g.drawImage(sprite, (i % columns) * tw, Math.floor(i / columns) * th, tw, th, 0, 0, thumb.width, thumb.height);
  const label = className(data.labels[i]);
  const predicted = className(data.predicted[i]);
  caption.replaceChildren(
    el('div', {}, el('b', {}, `label ${label}`)),
    el('div', { class: wrong[i] ? 'wrong' : '' }, `predicted ${predicted}`),
    el('div', { class: 'muted' }, `test image #${i}`),
  );
  const { x, y } = view.position(i);
  tooltip.hidden = false;
  // Beside the point, on the side with room.
  const left = x + 14 + tooltip.offsetWidth > canvas.clientWidth ? x - 14 - tooltip.offsetWidth : x + 14;
  tooltip.style.left = `${Math.max(0, left)}px`;
  tooltip.style.top = `${Math.max(0, Math.min(y - 20, canvas.clientHeight - tooltip.offsetHeight))}px`;
}

function hover(i: number): void {
  if (i === view.hovered) return;
  view.hovered = i;
  if (i < 0) tooltip.hidden = true;
  else showTip(i);
  redraw();
}

let dragFrom: { x: number; y: number } | undefined;
canvas.addEventListener('pointerdown', (e) => {
  dragFrom = { x: e.clientX, y: e.clientY };
  canvas.setPointerCapture(e.pointerId);
});
canvas.addEventListener('pointerup', () => {
  dragFrom = undefined;
});
canvas.addEventListener('pointermove', (e) => {
  if (dragFrom) {
    view.drag(e.clientX - dragFrom.x, e.clientY - dragFrom.y);
    dragFrom = { x: e.clientX, y: e.clientY };
    hover(-1);
    redraw();
    return;
  }
  const box = canvas.getBoundingClientRect();
  hover(view.pick(e.clientX - box.left, e.clientY - box.top));
});
canvas.addEventListener('pointerleave', () => hover(-1));
canvas.addEventListener(
  'wheel',
  (e) => {
    e.preventDefault();
    view.zoomBy(Math.exp(-e.deltaY * 0.0015));
    hover(-1);
    redraw();
  },
  { passive: false },
);
canvas.addEventListener('dblclick', () => {
  view.reset();
  redraw();
});
new ResizeObserver(redraw).observe(canvas);
view.draw();

/** Ink (summed pixel values) in the tooltip's thumbnail: 0 when no image is drawn. */
function thumbInk(): number {
  const pixels = thumb.getContext('2d')!.getImageData(0, 0, thumb.width, thumb.height).data;
  let ink = 0;
  for (let k = 0; k < pixels.length; k += 4) ink += pixels[k] + pixels[k + 1] + pixels[k + 2];
  return ink;
}

(globalThis as unknown as { projector: object }).projector = {
  /** What the page shows now: points drawn, the hovered point and its tooltip. */
  state: () => ({
    points: n,
    drawn: view.drawn,
    spriteReady,
    hovered:
      view.hovered < 0
        ? null
        : {
            index: view.hovered,
            label: data.labels[view.hovered],
            predicted: data.predicted[view.hovered],
            text: caption.textContent,
            ink: thumbInk(),
            visible: !tooltip.hidden,
          },
  }),
  /** Where point i is drawn, in the page's CSS pixels (for a test to hover it). */
  pointOnPage: (i: number) => {
    const box = canvas.getBoundingClientRect();
    const { x, y } = view.position(i);
    return { x: box.left + x, y: box.top + y };
  },
};
