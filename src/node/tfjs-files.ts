// Node-only: st.tfjs.load(path) reads model.json and its weight shards with node:fs (a page passes
// artifacts or a URL). A missing file is a FormatError naming it.
import { readFile } from 'node:fs/promises';
import { FormatError } from '../core/errors.js';
import { setTfjsFileReader } from '../interop/tfjs/index.js';

setTfjsFileReader(async (path) => {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FormatError(`${path}: cannot read the tfjs model file (${code === 'ENOENT' ? 'no such file' : ((e as Error).message ?? code)})`);
  }
});
