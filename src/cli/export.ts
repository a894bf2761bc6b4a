// `strata export DIR --onnx FILE`: a saved model (a run folder from strata train, or any
// model.save folder) written as an ONNX file (st.onnx.save) that takes Strata's own shapes.
import { ValueError } from '../core/errors.js';
import * as st from '../index.js';

export interface ExportCommandOptions {
  /** The .onnx file to write. */
  onnx?: string;
}

/** Exports the model saved in `dir` to `options.onnx`; returns the line it prints. */
export async function exportCommand(dir: string, options: ExportCommandOptions, print: (line: string) => void = console.log): Promise<string> {
  const file = options.onnx;
  if (!file) throw new ValueError('strata export: give the file to write with --onnx FILE');
  if (!/\.onnx$/i.test(file)) throw new ValueError(`strata export: --onnx expects a file name ending in .onnx; received '${file}'`);
  const model = await st.loadModel(dir, { compile: false });
  await st.onnx.save(model, file);
  const shape = (t: st.SymbolicTensor) => `[${t.shape.map((d) => d ?? 'N').join(', ')}]`;
  const line = `${dir}: ${model.layers.length} layers, ${model.countParams()} parameters, inputs ${model.inputs.map(shape).join(', ')}, outputs ${model.outputs.map(shape).join(', ')}; ONNX (opset 17) written to ${file}`;
  print(line);
  return line;
}
