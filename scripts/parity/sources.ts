// The names the parity table covers, read from their sources of truth: tfjs's exported ops and
// layers from the @tensorflow/tfjs packages installed as a devDependency (their type declarations,
// read with the TypeScript compiler, so nothing of tfjs runs), and Keras 3's public names from the
// committed list keras-<version>.json (Keras is a Python package; the list says where it came from).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ts from 'typescript';

const require = createRequire(import.meta.url);

/** One namespace of one library whose names the table lists. */
export interface Source {
  id: SourceId;
  /** The heading of its section in docs/parity.md. */
  title: string;
  /** How its names are written in the table ('tf.', 'keras.ops.', ...). */
  prefix: string;
  names: string[];
}

export type SourceId =
  | 'tfjs.ops'
  | 'tfjs.layers'
  | 'keras.layers'
  | 'keras.losses'
  | 'keras.metrics'
  | 'keras.activations'
  | 'keras.ops'
  | 'keras.ops.image';

/** tfjs-core's namespaces of ops (tf.image.resizeBilinear, ...): listed member by member. */
const TFJS_NAMESPACES = ['image', 'linalg', 'losses', 'spectral', 'fused', 'signal', 'sparse', 'string'];

/** The exported names of a declaration file, with the members of the listed namespace objects as 'ns.member'. */
function exportedNames(file: string, namespaces: readonly string[] = []): string[] {
  const program = ts.createProgram([file], { skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const sourceFile = program.getSourceFile(file);
  const module = sourceFile && checker.getSymbolAtLocation(sourceFile);
  if (!sourceFile || !module) throw new Error(`cannot read the exports of ${file}`);
  return checker.getExportsOfModule(module).flatMap((symbol) => {
    if (!namespaces.includes(symbol.name)) return [symbol.name];
    const type = checker.getTypeOfSymbolAtLocation(symbol, sourceFile);
    return type.getProperties().map((p) => `${symbol.name}.${p.name}`);
  });
}

export interface KerasList {
  keras: string;
  source: string;
  layers: string[];
  losses: string[];
  metrics: string[];
  activations: string[];
  ops: string[];
  'ops.image': string[];
}

export const KERAS_LIST = new URL('./keras-3.15.1.json', import.meta.url);

export function loadSources(): { sources: Source[]; tfjsVersion: string; keras: KerasList } {
  const tfjsVersion = (require('@tensorflow/tfjs-core/package.json') as { version: string }).version;
  const ops = exportedNames(require.resolve('@tensorflow/tfjs-core/dist/ops/ops.d.ts'), TFJS_NAMESPACES);
  const layers = exportedNames(require.resolve('@tensorflow/tfjs-layers/dist/exports_layers.d.ts'));
  const keras = JSON.parse(readFileSync(KERAS_LIST, 'utf8')) as KerasList;
  const sources: Source[] = [
    { id: 'tfjs.ops', title: `TensorFlow.js ${tfjsVersion}: ops (tf.*)`, prefix: 'tf.', names: ops },
    { id: 'tfjs.layers', title: `TensorFlow.js ${tfjsVersion}: layers (tf.layers.*)`, prefix: 'tf.layers.', names: layers },
    { id: 'keras.layers', title: `Keras ${keras.keras}: keras.layers`, prefix: 'keras.layers.', names: keras.layers },
    { id: 'keras.losses', title: `Keras ${keras.keras}: keras.losses`, prefix: 'keras.losses.', names: keras.losses },
    { id: 'keras.metrics', title: `Keras ${keras.keras}: keras.metrics`, prefix: 'keras.metrics.', names: keras.metrics },
    { id: 'keras.activations', title: `Keras ${keras.keras}: keras.activations`, prefix: 'keras.activations.', names: keras.activations },
    { id: 'keras.ops', title: `Keras ${keras.keras}: keras.ops`, prefix: 'keras.ops.', names: keras.ops },
    { id: 'keras.ops.image', title: `Keras ${keras.keras}: keras.ops.image`, prefix: 'keras.ops.image.', names: keras['ops.image'] },
  ];
  return { sources, tfjsVersion, keras };
}
