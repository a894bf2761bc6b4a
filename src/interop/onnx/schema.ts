// The subset of ONNX's protobuf messages the importer reads and the exporter writes. The schema
// is onnx-schema.json, in protobufjs's JSON form: field numbers and types are those of the ONNX
// specification (onnx.proto, IR version 8); fields never read (sparse tensors, training info,
// functions, segments) are left out, so the decoder skips them as unknown fields. The code that
// encodes and decodes them is generated from it ahead of time (proto/*.gen.ts, by
// scripts/make-onnx-proto.mjs): protobufjs's reflection would generate it at run time with
// `new Function`, which a page with a strict Content-Security-Policy refuses.
import { onnx } from './proto/index.gen.js';

/** What the importer and exporter use of a generated message class. */
export interface MessageType {
  decode(bytes: Uint8Array): object;
  toObject(message: object, options?: { longs?: NumberConstructor; arrays?: boolean; defaults?: boolean }): Record<string, unknown>;
  fromObject(object: object): object;
  encode(message: object): { finish(): Uint8Array };
}

/** The message types the decoder and encoder use. */
export const messages: { model: MessageType; tensor: MessageType } = {
  model: (onnx as Record<string, MessageType>).ModelProto,
  tensor: (onnx as Record<string, MessageType>).TensorProto,
};

/** ONNX's TensorProto.DataType codes. */
export const ONNX_DTYPES: Record<number, string> = {
  0: 'UNDEFINED',
  1: 'FLOAT',
  2: 'UINT8',
  3: 'INT8',
  4: 'UINT16',
  5: 'INT16',
  6: 'INT32',
  7: 'INT64',
  8: 'STRING',
  9: 'BOOL',
  10: 'FLOAT16',
  11: 'DOUBLE',
  12: 'UINT32',
  13: 'UINT64',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  16: 'BFLOAT16',
};

/** AttributeProto.AttributeType codes the importer reads. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10 } as const;
