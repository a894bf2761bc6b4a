// Node-only: st.onnx.load(path) reads the file with node:fs (a page passes bytes or a URL), and
// st.onnx.save(model, path) writes one atomically (a reader never sees half a model).
import { readFile } from 'node:fs/promises';
import { FormatError } from '../core/errors.js';
import { setOnnxFileReader, setOnnxFileWriter } from '../interop/onnx/index.js';
import { writeFileAtomic } from './io/atomic-write.js';

setOnnxFileReader(async (path) => {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FormatError(`${path}: cannot read the ONNX file (${code === 'ENOENT' ? 'no such file' : ((e as Error).message ?? code)})`);
  }
});

setOnnxFileWriter((path, bytes) => writeFileAtomic(path, bytes));
