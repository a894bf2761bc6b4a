// Node only (Note [Platforms] in core/platform.ts): imported through src/index.ts, never by the browser entry.
// A folder of class subfolders as a labelled image dataset (Keras's
// image_dataset_from_directory layout): root/<class name>/<image>.png|.jpg. Files are listed
// when imageFolder is called (so a missing folder fails at the call) and decoded on each pass.

import type { ImageFolderOptions, ImageFolderDataset } from '../../data/file-types.js';
import { readFile } from 'node:fs/promises';
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { extname, join } from 'node:path';
import { ValueError } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Dataset } from '../../data/dataset.js';
import { decodeImage, type HostImage } from './image.js';

const OP = 'imageFolder';
const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function listFiles(root: string): { classNames: string[]; files: { path: string; label: number }[] } {
  let entries: Dirent[];
  try {
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    throw new ValueError(`${OP}: path must be a folder of class subfolders; received '${root}', which is not a readable folder`);
  }
  const classNames = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort(byCodePoint);
  if (classNames.length === 0) throw new ValueError(`${OP}: '${root}' has no class subfolders; expected root/<class name>/<image files>`);
  const files: { path: string; label: number }[] = [];
  classNames.forEach((name, label) => {
    const folder = join(root, name);
    const images = readdirSync(folder, { withFileTypes: true })
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort(byCodePoint);
    for (const file of images) files.push({ path: join(folder, file), label });
  });
  return { classNames, files };
}

function checkImageSize(value: unknown): [number, number] {
  if (!Array.isArray(value) || value.length !== 2 || !value.every((d) => Number.isInteger(d) && d > 0)) {
    throw new ValueError(`${OP}: imageSize must be [height, width] with positive integers; received ${JSON.stringify(value)}`);
  }
  return [value[0], value[1]];
}

/**
 * Images from root/<class>/<file>, in class order then file-name order (shuffle the dataset
 * for training). PNG (any bit depth, palette, alpha) and baseline/progressive JPEG are decoded
 * in pure JavaScript; alpha is dropped; a corrupt file is a FormatError naming it.
 */
export function imageFolder(path: string, options: ImageFolderOptions): ImageFolderDataset {
  if (typeof path !== 'string') throw new ValueError(`${OP}: path must be a string; received ${typeof path}`);
  if (options === undefined || options === null) throw new ValueError(`${OP}: options with imageSize are required; received ${options}`);
  checkKeys(OP, options, ['imageSize', 'grayscale']);
  const [height, width] = checkImageSize(options.imageSize);
  const { grayscale = false } = options;
  if (typeof grayscale !== 'boolean') throw new ValueError(`${OP}: grayscale must be a boolean; received ${JSON.stringify(grayscale)}`);
  const { classNames, files } = listFiles(path);
  const channels = grayscale ? 1 : 3;

  const load = async (file: string): Promise<HostImage> => {
    const bytes = await readFile(file);
    return decodeImage(OP, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file, {
      channels,
      size: [height, width],
      outputCopies: 3,
    });
  };
  const dataset = new Dataset<{ xs: Tensor; ys: Tensor }>({
    size: files.length,
    open: async function* () {
      for (const file of files) {
        const image = await load(file.path);
        yield { xs: tensor(image.data, [height, width, channels], 'float32'), ys: tensor(file.label, [], 'int32') };
      }
    },
  });
  return Object.assign(dataset, { classNames: [...classNames] }) as ImageFolderDataset;
}
