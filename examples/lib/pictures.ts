// Pictures for the course examples: image grids and line charts written as PNG files. They reuse
// the renderers behind `strata train`'s report (pngjs for pixels, Vega-Lite compiled headless and
// rasterized by resvg for charts), so every picture in the project has the same look.
import { writeFileSync } from 'node:fs';
import type { TopLevelSpec } from 'vega-lite';
import { imageGridPng, svgToPng, vegaLiteToSvg, type GridImage } from '../../src/node/report/index.js';

/** What the helpers need of a tensor: its shape and an asynchronous read (any backend). */
export interface ImageBatch {
  shape: readonly number[];
  data(): Promise<ArrayLike<number>>;
}

export interface GridOptions {
  columns?: number;
  scale?: number;
  title?: string;
  subtitle?: string;
  /** One caption per image. */
  captions?: string[];
  /** 'none' clamps to [0, 1]; 'each' stretches every image to its own range (filters, gradients). */
  normalize?: 'none' | 'each';
}

/** Splits a batch [n, h, w] or [n, h, w, 1 | 3] into grid tiles. */
export async function gridImages(batch: ImageBatch, captions: string[] = []): Promise<GridImage[]> {
  const [n, height, width, channels = 1] = batch.shape;
  if (batch.shape.length < 3 || batch.shape.length > 4 || (channels !== 1 && channels !== 3)) {
    throw new Error(`gridImages: expected a batch of shape [n, h, w] or [n, h, w, 1 | 3]; received [${batch.shape.join(', ')}]`);
  }
  const values = Float32Array.from(await batch.data());
  const size = height * width * channels;
  return Array.from({ length: n }, (_, i) => ({
    pixels: values.subarray(i * size, (i + 1) * size),
    height,
    width,
    ...(captions[i] === undefined ? {} : { caption: captions[i] }),
  }));
}

/** Writes a grid of the images in `batch` to `path` as PNG. */
export async function saveImageGrid(path: string, batch: ImageBatch | GridImage[], options: GridOptions = {}): Promise<void> {
  const { captions, ...rest } = options;
  const images = Array.isArray(batch) ? batch : await gridImages(batch, captions);
  writeFileSync(path, await imageGridPng(images, rest));
}

export interface LineChartOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Logarithmic y axis (losses spanning decades). */
  logY?: boolean;
  width?: number;
  height?: number;
}

/**
 * Writes a line chart of one or more named series to `path` as PNG. Each series is a list of y
 * values at x = 1, 2, ...; or of [x, y] pairs.
 */
export async function saveLineChart(
  path: string,
  series: Record<string, number[] | [number, number][]>,
  options: LineChartOptions = {},
): Promise<void> {
  const rows = Object.entries(series).flatMap(([name, values]) =>
    values.map((v, i) => (Array.isArray(v) ? { series: name, x: v[0], y: v[1] } : { series: name, x: i + 1, y: v })),
  );
  const spec: TopLevelSpec = {
    width: options.width ?? 480,
    height: options.height ?? 280,
    ...(options.title ? { title: options.title } : {}),
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 2 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: options.xTitle ?? 'step' },
      y: {
        field: 'y',
        type: 'quantitative',
        title: options.yTitle ?? 'value',
        scale: options.logY ? { type: 'log' } : { zero: false },
      },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom' } },
    },
  };
  writeFileSync(path, await svgToPng(await vegaLiteToSvg(spec)));
}

/** Renders a Vega-Lite spec (scatter plots, bar charts) to a PNG file. */
export async function saveVegaLite(path: string, spec: TopLevelSpec): Promise<void> {
  writeFileSync(path, await svgToPng(await vegaLiteToSvg(spec)));
}

export interface MosaicOptions {
  /** Images per row. Default: the square root of the count, rounded up. */
  columns?: number;
  /** How many of the batch's images to use. Default all. */
  count?: number;
}

/**
 * Tiles a batch [n, h, w] or [n, h, w, 1 | 3] into one image with no borders between the tiles
 * (a sheet of generated digits, a latent-space manifold), to save alone or as one captioned cell
 * of a grid.
 */
export async function mosaic(batch: ImageBatch, options: MosaicOptions = {}): Promise<GridImage> {
  const tiles = await gridImages(batch);
  const count = Math.min(options.count ?? tiles.length, tiles.length);
  const columns = options.columns ?? Math.ceil(Math.sqrt(count));
  const rows = Math.ceil(count / columns);
  const [, height, width, channels = 1] = batch.shape;
  const out = new Float32Array(rows * height * columns * width * channels);
  const rowLength = columns * width * channels;
  for (let i = 0; i < count; i++) {
    const top = Math.floor(i / columns) * height;
    const left = (i % columns) * width * channels;
    for (let y = 0; y < height; y++) {
      const source = (tiles[i].pixels as Float32Array).subarray(y * width * channels, (y + 1) * width * channels);
      out.set(source, (top + y) * rowLength + left);
    }
  }
  return { pixels: out, height: rows * height, width: columns * width };
}

export type { GridImage };
