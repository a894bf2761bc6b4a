// Node only (Note [Platforms] in core/platform.ts): imported through src/index.ts, never by the browser entry.
import type { ReadImageOptions } from '../../data/file-types.js';
import { readFile } from 'node:fs/promises';
import { ValueError } from '../../core/errors.js';
import { checkKeys } from '../../core/options.js';
import { tensor } from '../../tensor/create.js';
import type { Tensor } from '../../tensor/tensor.js';
import { decodeImage } from './image.js';

/** A PNG or JPEG file as a float32 [height, width, channels] tensor in [0, 1]. */
export async function readImage(path: string, options: ReadImageOptions = {}): Promise<Tensor> {
  checkKeys('readImage', options, ['size', 'channels']);
  if (options.channels !== undefined && options.channels !== 1 && options.channels !== 3) {
    throw new ValueError(`readImage: channels must be 1 or 3; received ${JSON.stringify(options.channels)}`);
  }
  const size = options.size;
  if (size !== undefined && !(Array.isArray(size) && size.length === 2 && size.every((d) => Number.isInteger(d) && d > 0))) {
    throw new ValueError(`readImage: size must be [height, width] of positive integers; received ${JSON.stringify(size)}`);
  }
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    throw new ValueError(`readImage: cannot read '${path}' (${e.code ?? e.message})`);
  });
  const image = await decodeImage('readImage', new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path, {
    channels: options.channels,
    size,
    outputCopies: 3,
  });
  return tensor(image.data, [image.height, image.width, image.channels], 'float32');
}
