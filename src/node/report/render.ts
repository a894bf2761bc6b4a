import { existsSync } from 'node:fs';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import { ValueError } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';

// SVG → PNG with resvg (a Rust renderer shipped as prebuilt npm binaries, so no browser or
// canvas build is needed). resvg draws text only with fonts it was given: Debian's
// fonts-dejavu-core is loaded by path when present (fast and the same on every machine);
// otherwise the system fonts are scanned and the first one found is used.

/** The font every chart asks for; the SVGs name it so the PNG matches what a browser shows. */
export const REPORT_FONT = 'DejaVu Sans';

const DEJAVU_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'];

let cachedFontOptions: ResvgRenderOptions['font'] | undefined;

function fontOptions(): ResvgRenderOptions['font'] {
  if (cachedFontOptions) return cachedFontOptions;
  const files = DEJAVU_FILES.filter((f) => existsSync(f));
  cachedFontOptions =
    files.length > 0
      ? { loadSystemFonts: false, fontFiles: files, defaultFontFamily: REPORT_FONT, sansSerifFamily: REPORT_FONT }
      : { loadSystemFonts: true };
  return cachedFontOptions;
}

export interface SvgToPngOptions {
  /** Output width in pixels (height follows the aspect ratio). Default: twice the SVG's width, so text stays crisp. */
  width?: number;
}

/** Rasterizes an SVG document on a white background. */
export async function svgToPng(svg: string, options: SvgToPngOptions = {}): Promise<Uint8Array> {
  checkKeys('svgToPng', options, ['width']);
  if (typeof svg !== 'string' || !svg.includes('<svg')) {
    throw new ValueError(`svgToPng: expected an SVG document string; received ${typeof svg === 'string' ? `'${svg.slice(0, 40)}'` : typeof svg}`);
  }
  const { width } = options;
  if (width !== undefined && !(Number.isInteger(width) && width > 0 && width <= 16384)) {
    throw new ValueError(`svgToPng: width must be an integer in [1, 16384]; received ${width}`);
  }
  const fitTo: ResvgRenderOptions['fitTo'] = width === undefined ? { mode: 'zoom', value: 2 } : { mode: 'width', value: width };
  const resvg = new Resvg(svg, { font: fontOptions(), fitTo, background: 'white', logLevel: 'off' });
  return new Uint8Array(resvg.render().asPng());
}
