// The shapes of host images and of decodeImage's options, shared by the decoders (image-png.ts,
// image-jpeg.ts), the pixel conversion and sampling (image-pixels.ts) and the data pipeline.

/** An image on the host: row-major [height, width, channels]. */
export interface HostImage {
  height: number;
  width: number;
  channels: number;
  data: Float32Array | Float64Array;
}

/** What decodeImage makes of the file. */
export interface DecodeOptions {
  /** 1 (grayscale) or 3 (RGB); default: 1 for gray PNGs (alpha or not), 3 for the rest. */
  channels?: 1 | 3;
  /** Resize (bilinear, with half-pixel centres) to [height, width]; default: the file's own size. */
  size?: readonly [number, number];
  /**
   * How many copies of the float32 output the caller will hold at once, for the memory estimate;
   * default 1. Making a tensor of it holds two: the array and the backend's copy (st.tensor no
   * longer makes a third); the readers still pass 3, so their ceilings stay as measured.
   */
  outputCopies?: number;
}

/** How sampling treats coordinates outside the image (Keras's fill modes). */
export type FillMode = 'reflect' | 'constant' | 'nearest' | 'wrap';
