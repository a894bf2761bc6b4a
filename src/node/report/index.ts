// Pictures and a page for a training run: curves, confusion matrix, image grids, HTML report.
// Inputs are plain arrays so this module has no dependency on models or tensors.
export { curvesSvg, confusionSvg, confusionPng, vegaLiteToSvg } from './charts.js';
export type { HistoryData } from './charts.js';
export { svgToPng, REPORT_FONT } from './render.js';
export type { SvgToPngOptions } from './render.js';
export { imageGridPng, encodePng } from './images.js';
export type { GridImage, ImageGridOptions } from './images.js';
export { filterImages, mistakeImages } from './samples.js';
export { confusionMatrix } from './confusion.js';
export { reportHtml } from './html.js';
export type { ReportParts } from './html.js';
export { escapeXml } from './text.js';
