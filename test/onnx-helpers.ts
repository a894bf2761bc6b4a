// Small ONNX graphs written as protobuf JSON, for the importer's tests.
import { messages } from '../src/interop/onnx/schema.js';

export type Json = Record<string, unknown>;
export const floatTensor = (name: string, dims: number[], values: number[]): Json => ({ name, dims, dataType: 1, floatData: values });
export const int64Tensor = (name: string, values: number[]): Json => ({ name, dims: [values.length], dataType: 7, int64Data: values });
export const valueInfo = (name: string, dims: (number | string)[], elemType = 1): Json => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
});
export const node = (opType: string, input: string[], output: string[], attribute: Json[] = [], name = `${opType}_${output[0]}`): Json => ({
  opType,
  input,
  output,
  attribute,
  name,
});
export const ints = (name: string, v: number[]): Json => ({ name, type: 7, ints: v });

export function encode(graph: Json, opset = 13): Uint8Array {
  return messages.model.encode(messages.model.fromObject({ irVersion: 8, opsetImport: [{ domain: '', version: opset }], graph })).finish();
}

/** Deterministic values in [-0.5, 0.5). */
export const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (((i + 1) * 2654435761 * seed) % 1000) / 1000 - 0.5);
