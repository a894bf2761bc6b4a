// `strata import FILE --out DIR`: an ONNX model (st.onnx.load) or a Keras `.keras` / `.h5` file
// (st.keras.load) imported and saved as a Strata model folder.
import { ValueError } from '../core/errors.js';
import * as st from '../index.js';

export interface ImportCommandOptions {
  /** The model folder to write (model.json and weights). */
  out: string;
}

/** Imports `file` and saves it to `options.out`; returns the line it prints. */
export async function importCommand(file: string, options: ImportCommandOptions, print: (line: string) => void = console.log): Promise<string> {
  const keras = /\.(keras|h5|hdf5)$/i.test(file);
  if (!keras && !/\.onnx$/i.test(file)) throw new ValueError(`strata import: expected an .onnx, .keras or .h5 file; received '${file}'`);
  const model = keras ? await st.keras.load(file) : await st.onnx.load(file);
  await model.save(options.out);
  const inputs = model.inputs.map((t) => `[${t.shape.map((d) => d ?? 'N').join(', ')}]`).join(', ');
  const outputs = model.outputs.map((t) => `[${t.shape.map((d) => d ?? 'N').join(', ')}]`).join(', ');
  const line = `${file}: ${model.layers.length} layers, ${model.countParams()} parameters, inputs ${inputs}, outputs ${outputs}; saved to ${options.out}`;
  print(line);
  return line;
}
