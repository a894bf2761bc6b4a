// The subset of ONNX's protobuf messages the importer reads, in protobufjs's reflection (JSON)
// form. Field numbers and types are those of the ONNX specification (onnx.proto, IR version 8);
// fields the importer never reads (sparse tensors, training info, functions, segments) are left
// out, so protobufjs skips them as unknown fields.
import protobuf from 'protobufjs';

const str = (id: number) => ({ type: 'string', id });
const rep = (type: string, id: number) => ({ rule: 'repeated', type, id });

const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            opsetImport: rep('OperatorSetIdProto', 8),
            producerName: str(2),
            producerVersion: str(3),
            domain: str(4),
            modelVersion: { type: 'int64', id: 5 },
            docString: str(6),
            graph: { type: 'GraphProto', id: 7 },
            metadataProps: rep('StringStringEntryProto', 14),
          },
        },
        OperatorSetIdProto: { fields: { domain: str(1), version: { type: 'int64', id: 2 } } },
        StringStringEntryProto: { fields: { key: str(1), value: str(2) } },
        GraphProto: {
          fields: {
            node: rep('NodeProto', 1),
            name: str(2),
            initializer: rep('TensorProto', 5),
            docString: str(10),
            input: rep('ValueInfoProto', 11),
            output: rep('ValueInfoProto', 12),
            valueInfo: rep('ValueInfoProto', 13),
          },
        },
        NodeProto: {
          fields: {
            input: rep('string', 1),
            output: rep('string', 2),
            name: str(3),
            opType: str(4),
            domain: str(7),
            attribute: rep('AttributeProto', 5),
            docString: str(6),
          },
        },
        AttributeProto: {
          fields: {
            name: str(1),
            refAttrName: str(21),
            docString: str(13),
            type: { type: 'int32', id: 20 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: rep('float', 7),
            ints: rep('int64', 8),
            strings: rep('bytes', 9),
            tensors: rep('TensorProto', 10),
            graphs: rep('GraphProto', 11),
          },
        },
        ValueInfoProto: { fields: { name: str(1), type: { type: 'TypeProto', id: 2 }, docString: str(3) } },
        TypeProto: {
          fields: { tensorType: { type: 'TensorTypeProto', id: 1 }, denotation: str(6) },
        },
        // TypeProto.Tensor in the specification (a nested message; flattened here, same wire form).
        TensorTypeProto: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
        TensorShapeProto: { fields: { dim: rep('DimensionProto', 1) } },
        // TensorShapeProto.Dimension: dim_value and dim_param are a oneof in the specification.
        // Declared as a oneof so that a dim_value of 0 (an empty axis) reads as 0, not as unknown.
        DimensionProto: {
          oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
          fields: { dimValue: { type: 'int64', id: 1 }, dimParam: str(2), denotation: str(3) },
        },
        TensorProto: {
          fields: {
            dims: rep('int64', 1),
            dataType: { type: 'int32', id: 2 },
            floatData: rep('float', 4),
            int32Data: rep('int32', 5),
            stringData: rep('bytes', 6),
            int64Data: rep('int64', 7),
            name: str(8),
            rawData: { type: 'bytes', id: 9 },
            doubleData: rep('double', 10),
            uint64Data: rep('uint64', 11),
            docString: str(12),
            externalData: rep('StringStringEntryProto', 13),
            dataLocation: { type: 'int32', id: 14 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(SCHEMA);

/** The message types the decoder uses. */
export const messages = {
  model: root.lookupType('onnx.ModelProto'),
  tensor: root.lookupType('onnx.TensorProto'),
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
