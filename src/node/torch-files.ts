// Node-only: st.torch.loadStateDict(model, path) reads the file with node:fs (a page passes
// bytes), and st.torch.saveStateDict writes one atomically (a reader never sees half a file).
import { readFile } from 'node:fs/promises';
import { FormatError } from '../core/errors.js';
import { setTorchFiles } from '../interop/torch/index.js';
import { writeFileAtomic } from './io/atomic-write.js';

setTorchFiles(
  async (path) => {
    try {
      return await readFile(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new FormatError(`${path}: cannot read the state dict (${code === 'ENOENT' ? 'no such file' : ((e as Error).message ?? code)})`);
    }
  },
  (path, bytes) => writeFileAtomic(path, bytes),
);
