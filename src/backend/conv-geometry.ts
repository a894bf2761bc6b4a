/**
 * A 2-D convolution's sizes, NHWC input [n, h, w, c], filter [kh, kw, c, o] and output
 * [n, oh, ow, o]: what every backend's convolution kernels index by.
 */
export interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  o: number;
  oh: number;
  ow: number;
}

/** The geometry of a convolution from its input, filter and output shapes. */
export function convGeometry(x: readonly number[], filter: readonly number[], y: readonly number[]): ConvGeometry {
  return { n: x[0], h: x[1], w: x[2], c: x[3], kh: filter[0], kw: filter[1], o: filter[3], oh: y[1], ow: y[2] };
}
