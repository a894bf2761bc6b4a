// ONNX ModelProto bytes → a plain graph description (nodes, attributes, initializers, inputs,
// outputs) with every claim checked.
import { FormatError, StrataError } from '../../core/errors.js';
import { ATTR, ONNX_DTYPES, messages } from './schema.js';
import { checkDims, readTensor, type OnnxTensor, type TensorFields } from './tensors.js';

// Note [Hostile ONNX files]
// An ONNX file is data from elsewhere. protobufjs decodes it against the fixed schema of
// schema.ts (nothing in the file is evaluated); a truncated or garbled message makes protobufjs
// throw, which becomes a FormatError naming the file. Every size the file claims is checked
// before anything is allocated from it: dims must be non-negative integers whose product stays
// under MAX_ELEMENTS, raw_data must hold exactly the bytes the dims need, typed fields exactly
// the values, and tensors kept in external files are refused (their paths are the file's word).
// Graph attributes (If/Loop bodies) are not decoded further: those operators are unsupported.

/** An attribute value, as the op handlers read it. */
export type OnnxAttribute = number | number[] | string | string[] | OnnxTensor | { graph: true };

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  /** ONNX's element type name, or undefined when the file does not say. */
  elemType: string | undefined;
  /** Dimensions; null for a symbolic or missing one; undefined when the rank is unknown. */
  shape: (number | null)[] | undefined;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  producer: string;
  /** Opset versions by domain ('' is the default ONNX domain). */
  opsets: Map<string, number>;
  graph: OnnxGraph;
}

/** Runs protobufjs's decoder, turning its errors (truncation, bad wire types, runaway nesting) into FormatErrors. */
function decodeMessage<T>(type: typeof messages.model, bytes: Uint8Array, source: string, what: string): T {
  try {
    const message = type.decode(bytes);
    return type.toObject(message, { longs: Number, arrays: true, defaults: false }) as T;
  } catch (e) {
    if (e instanceof StrataError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new FormatError(`${source}: not a valid ONNX ${what} (protobuf decoding failed: ${reason})`);
  }
}

interface AttributeFields {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorFields;
  g?: unknown;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  graphs?: unknown[];
  tensors?: TensorFields[];
  refAttrName?: string;
}

const text = (b: Uint8Array | undefined) => new TextDecoder().decode(b ?? new Uint8Array());

function readAttribute(a: AttributeFields, where: string): OnnxAttribute {
  // Old exporters leave `type` out; then the one field present says what it is.
  const type =
    a.type ??
    (a.t
      ? ATTR.TENSOR
      : a.g
        ? ATTR.GRAPH
        : a.s
          ? ATTR.STRING
          : a.ints
            ? ATTR.INTS
            : a.floats
              ? ATTR.FLOATS
              : a.f !== undefined
                ? ATTR.FLOAT
                : ATTR.INT);
  switch (type) {
    case ATTR.FLOAT:
      return a.f ?? 0;
    case ATTR.INT:
      return Number(a.i ?? 0);
    case ATTR.STRING:
      return text(a.s);
    case ATTR.TENSOR:
      return readTensor(a.t ?? {}, `${where}: attribute '${a.name}'`);
    case ATTR.FLOATS:
      return a.floats ?? [];
    case ATTR.INTS:
      return (a.ints ?? []).map(Number);
    case ATTR.STRINGS:
      return (a.strings ?? []).map(text);
    case ATTR.GRAPH:
    case ATTR.GRAPHS:
      return { graph: true };
    default:
      throw new FormatError(`${where}: attribute '${a.name}' has type ${type}, which the importer does not read`);
  }
}

interface ValueInfoFields {
  name?: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } } };
}

function readValueInfo(v: ValueInfoFields, where: string): OnnxValueInfo {
  const tt = v.type?.tensorType;
  const dims = tt?.shape?.dim;
  const shape = dims?.map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : null));
  if (shape)
    checkDims(
      shape.map((d) => d ?? 1),
      `${where}: value '${v.name}'`,
    );
  return { name: v.name ?? '', elemType: tt?.elemType !== undefined ? ONNX_DTYPES[tt.elemType] : undefined, shape };
}

interface GraphFields {
  name?: string;
  node?: { name?: string; opType?: string; domain?: string; input?: string[]; output?: string[]; attribute?: AttributeFields[] }[];
  initializer?: TensorFields[];
  input?: ValueInfoFields[];
  output?: ValueInfoFields[];
}

function readGraph(g: GraphFields, source: string): OnnxGraph {
  const nodes = (g.node ?? []).map((n, i): OnnxNode => {
    const name = n.name || `${n.opType ?? 'node'}_${i}`;
    const where = `${source}: node '${name}' (${n.opType})`;
    const attributes: Record<string, OnnxAttribute> = {};
    for (const a of n.attribute ?? []) {
      if (a.refAttrName) throw new FormatError(`${where}: attribute references belong in functions, not in a graph`);
      attributes[a.name ?? ''] = readAttribute(a, where);
    }
    if (!n.opType) throw new FormatError(`${source}: node ${i} has no op_type`);
    return { name, opType: n.opType, domain: n.domain ?? '', inputs: n.input ?? [], outputs: n.output ?? [], attributes };
  });
  const initializers = (g.initializer ?? []).map((t) => readTensor(t, source));
  return {
    name: g.name ?? '',
    nodes,
    initializers,
    inputs: (g.input ?? []).map((v) => readValueInfo(v, source)),
    outputs: (g.output ?? []).map((v) => readValueInfo(v, source)),
  };
}

/** Decodes an ONNX model; `source` (a path or 'bytes') names it in errors. */
export function decodeModel(bytes: Uint8Array, source: string): OnnxModel {
  if (bytes.length === 0) throw new FormatError(`${source}: empty file, not an ONNX model`);
  const m = decodeMessage<{ irVersion?: number; producerName?: string; opsetImport?: { domain?: string; version?: number }[]; graph?: GraphFields }>(
    messages.model,
    bytes,
    source,
    'model',
  );
  if (!m.graph) throw new FormatError(`${source}: no graph; not an ONNX model (ModelProto.graph is missing)`);
  const opsets = new Map<string, number>();
  for (const o of m.opsetImport ?? []) opsets.set(o.domain === 'ai.onnx' ? '' : (o.domain ?? ''), Number(o.version ?? 0));
  // IR version 3 and later must name their opsets; earlier files meant opset 1 of the default domain.
  if (!opsets.has('')) opsets.set('', 1);
  return { irVersion: Number(m.irVersion ?? 0), producer: m.producerName ?? '', opsets, graph: readGraph(m.graph, source) };
}

/** Decodes a serialized TensorProto (the .pb files of ONNX's test data). */
export function decodeTensor(bytes: Uint8Array, source: string): OnnxTensor {
  return readTensor(decodeMessage<TensorFields>(messages.tensor, bytes, source, 'tensor'), source);
}
