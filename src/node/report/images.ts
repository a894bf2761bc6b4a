import { PNG } from 'pngjs';
import { ShapeError, ValueError } from '../../core/errors.js';
import { checkKeys, checkOneOf } from '../../core/options.js';
import { escapeXml, textWidth, wrapText } from './text.js';
import { REPORT_FONT, svgToPng } from './render.js';

// Grids of small images (misclassified samples, conv filters). Pixels are composed into one RGBA
// buffer here, each tile enlarged by pixel repetition so a 28x28 digit stays sharp; captions and
// a title are then laid over it as SVG text and the whole is rendered by resvg.

/** One image: `pixels` row-major, height*width values (grayscale) or height*width*3 (RGB, channels last). */
export interface GridImage {
  pixels: Float32Array | number[];
  height: number;
  width: number;
  caption?: string;
}

export interface ImageGridOptions {
  /** Tiles per row; default min(count, 8). */
  columns?: number;
  /** Screen pixels per image pixel; default makes the larger side about 84 px. */
  scale?: number;
  /** 'none' (default): values are clamped to [0, 1]. 'each': every image is stretched to its own min..max (for filters). */
  normalize?: 'none' | 'each';
  /** A heading above the grid. */
  title?: string;
  /** A smaller line under the heading, such as the key to the captions. */
  subtitle?: string;
}

const MARGIN = 14;
const GAP_X = 14;
const GAP_Y = 10;
const CAPTION_SIZE = 12;
const CAPTION_LINE = 15;
const TITLE_SIZE = 16;
const TITLE_BAND = 32;
const SUBTITLE_SIZE = 13;
const SUBTITLE_BAND = 22;
const MAX_CAPTION_WIDTH = 190;
const BORDER = [170, 170, 170];

/** Encodes an RGBA buffer (4 bytes per pixel, row-major) as PNG. */
export function encodePng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  if (rgba.length !== width * height * 4) {
    throw new ShapeError(`encodePng: expected ${width * height * 4} bytes for ${width}x${height} RGBA; received ${rgba.length}`);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return new Uint8Array(PNG.sync.write(png));
}

function channelsOf(img: GridImage, index: number): number {
  const { height, width, pixels } = img;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new ValueError(`imageGridPng: images[${index}] needs positive integer height and width; received ${height}x${width}`);
  }
  const channels = pixels.length / (height * width);
  if (channels !== 1 && channels !== 3) {
    throw new ShapeError(
      `imageGridPng: images[${index}] has ${pixels.length} values; expected ${height * width} (grayscale) or ${height * width * 3} (RGB) for ${height}x${width}`,
    );
  }
  return channels;
}

/** Pixel values mapped to bytes: clamped from [0, 1], or stretched over the image's own range. */
function toBytes(pixels: Float32Array | number[], normalize: 'none' | 'each'): Uint8Array {
  let lo = 0;
  let hi = 1;
  if (normalize === 'each') {
    lo = Infinity;
    hi = -Infinity;
    for (const v of pixels)
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
  }
  const out = new Uint8Array(pixels.length);
  const range = hi - lo;
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i];
    // A constant image (range 0) shows as mid-gray; NaN as black.
    const t = range > 0 ? (v - lo) / range : 0.5;
    out[i] = Number.isNaN(v) ? 0 : Math.round(Math.min(1, Math.max(0, t)) * 255);
  }
  return out;
}

interface Layout {
  columns: number;
  rows: number;
  scale: number;
  cellW: number;
  cellH: number;
  tileH: number;
  tileW: number;
  captions: string[][];
  top: number;
  width: number;
  height: number;
}

function layout(images: GridImage[], columns: number, scale: number, title: string | undefined, subtitle: string | undefined): Layout {
  const tileH = Math.max(...images.map((im) => im.height)) * scale;
  const tileW = Math.max(...images.map((im) => im.width)) * scale;
  const hasCaptions = images.some((im) => im.caption);
  // Cells widen for captions, up to a limit past which captions wrap.
  const widest = Math.max(0, ...images.map((im) => textWidth(im.caption ?? '', CAPTION_SIZE)));
  const cellW = Math.max(tileW, Math.min(Math.ceil(widest), MAX_CAPTION_WIDTH));
  const captions = images.map((im) => (im.caption ? wrapText(im.caption, cellW, CAPTION_SIZE) : []));
  const lines = Math.max(0, ...captions.map((c) => c.length));
  const cellH = tileH + (hasCaptions ? 4 + lines * CAPTION_LINE : 0);
  const rows = Math.ceil(images.length / columns);
  const top = MARGIN + (title ? TITLE_BAND : 0) + (subtitle ? SUBTITLE_BAND : 0);
  const titleW = Math.max(title ? textWidth(title, TITLE_SIZE) : 0, subtitle ? textWidth(subtitle, SUBTITLE_SIZE) : 0) + 2 * MARGIN;
  const width = Math.max(Math.ceil(titleW), 2 * MARGIN + columns * cellW + (columns - 1) * GAP_X);
  const height = top + MARGIN + rows * cellH + (rows - 1) * GAP_Y;
  return { columns, rows, scale, cellW, cellH, tileH, tileW, captions, top, width, height };
}

/** Left edge of the grid: centered when a long title makes the picture wider than the grid. */
function gridLeft(l: Layout): number {
  const gridW = l.columns * l.cellW + (l.columns - 1) * GAP_X;
  return Math.floor((l.width - gridW) / 2);
}

/** The tiles drawn into a white RGBA canvas, each framed by a 1-pixel gray border. */
function composeTiles(images: GridImage[], l: Layout, normalize: 'none' | 'each'): Uint8Array {
  const canvas = new Uint8Array(l.width * l.height * 4).fill(255);
  const put = (x: number, y: number, r: number, g: number, b: number): void => {
    const o = (y * l.width + x) * 4;
    canvas[o] = r;
    canvas[o + 1] = g;
    canvas[o + 2] = b;
  };
  const left = gridLeft(l);
  images.forEach((img, i) => {
    const channels = channelsOf(img, i);
    const bytes = toBytes(img.pixels, normalize);
    const w = img.width * l.scale;
    const h = img.height * l.scale;
    const x0 = left + (i % l.columns) * (l.cellW + GAP_X) + Math.floor((l.cellW - w) / 2);
    const y0 = l.top + Math.floor(i / l.columns) * (l.cellH + GAP_Y);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = (Math.floor(y / l.scale) * img.width + Math.floor(x / l.scale)) * channels;
        if (channels === 1) put(x0 + x, y0 + y, bytes[p], bytes[p], bytes[p]);
        else put(x0 + x, y0 + y, bytes[p], bytes[p + 1], bytes[p + 2]);
      }
    }
    // The border sits just outside the tile so no image pixel is covered.
    for (let x = -1; x <= w; x++) {
      if (y0 - 1 >= 0) put(x0 + x, y0 - 1, BORDER[0], BORDER[1], BORDER[2]);
      put(x0 + x, y0 + h, BORDER[0], BORDER[1], BORDER[2]);
    }
    for (let y = 0; y < h; y++) {
      put(x0 - 1, y0 + y, BORDER[0], BORDER[1], BORDER[2]);
      put(x0 + w, y0 + y, BORDER[0], BORDER[1], BORDER[2]);
    }
  });
  return canvas;
}

/** The text layer: title and captions over the composed tiles. */
function overlaySvg(tilesPng: Uint8Array, images: GridImage[], l: Layout, title: string | undefined, subtitle: string | undefined): string {
  const parts: string[] = [];
  const left = gridLeft(l);
  images.forEach((img, i) => {
    const cx = left + (i % l.columns) * (l.cellW + GAP_X) + l.cellW / 2;
    const y = l.top + Math.floor(i / l.columns) * (l.cellH + GAP_Y) + img.height * l.scale + 4;
    l.captions[i].forEach((line, k) => {
      parts.push(`<text x="${cx}" y="${y + (k + 1) * CAPTION_LINE - 3}" text-anchor="middle" font-size="${CAPTION_SIZE}">${escapeXml(line)}</text>`);
    });
  });
  if (title) {
    parts.push(
      `<text x="${l.width / 2}" y="${MARGIN + TITLE_SIZE}" text-anchor="middle" font-size="${TITLE_SIZE}" font-weight="bold">${escapeXml(title)}</text>`,
    );
  }
  if (subtitle) {
    parts.push(
      `<text x="${l.width / 2}" y="${MARGIN + (title ? TITLE_BAND : 0) + SUBTITLE_SIZE}" text-anchor="middle" font-size="${SUBTITLE_SIZE}" fill="#444">${escapeXml(subtitle)}</text>`,
    );
  }
  const href = `data:image/png;base64,${Buffer.from(tilesPng).toString('base64')}`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}">` +
    `<image x="0" y="0" width="${l.width}" height="${l.height}" image-rendering="optimizeSpeed" xlink:href="${href}"/>` +
    `<g font-family="${REPORT_FONT}, sans-serif" fill="#222">${parts.join('')}</g></svg>`
  );
}

/**
 * A grid of images with optional captions under each and an optional title, as PNG. Without
 * captions or title the pixels are encoded directly; otherwise the text is rendered by resvg at the
 * same size, so the picture is `width` x `height` either way.
 */
export async function imageGridPng(images: GridImage[], options: ImageGridOptions = {}): Promise<Uint8Array> {
  checkKeys('imageGridPng', options, ['columns', 'scale', 'normalize', 'title', 'subtitle']);
  if (!Array.isArray(images) || images.length === 0) throw new ValueError('imageGridPng: expected at least one image; received none');
  images.forEach((img, i) => channelsOf(img, i));
  const normalize = checkOneOf('imageGridPng', 'normalize', options.normalize ?? 'none', ['none', 'each'] as const);
  const columns = options.columns ?? Math.min(images.length, 8);
  if (!Number.isInteger(columns) || columns < 1) throw new ValueError(`imageGridPng: columns must be a positive integer; received ${columns}`);
  const largest = Math.max(...images.map((im) => Math.max(im.height, im.width)));
  const scale = options.scale ?? Math.max(1, Math.round(84 / largest));
  if (!Number.isInteger(scale) || scale < 1 || scale > 64)
    throw new ValueError(`imageGridPng: scale must be an integer in [1, 64]; received ${scale}`);
  const l = layout(images, Math.min(columns, images.length), scale, options.title, options.subtitle);
  const tiles = encodePng(composeTiles(images, l, normalize), l.width, l.height);
  const hasText = options.title !== undefined || options.subtitle !== undefined || images.some((im) => im.caption);
  return hasText ? svgToPng(overlaySvg(tiles, images, l, options.title, options.subtitle), { width: l.width }) : tiles;
}
