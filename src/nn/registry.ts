import { StrataError, ValueError } from '../core/errors.js';
import type { Layer } from './layer.js';

/** How model.json names a layer: its class and its getConfig(). */
export interface SerializedLayer {
  /** The registered class name (`Dense`, `Conv2D`, ...). */
  className: string;
  /** The layer's options, from its `getConfig()`. */
  config: Record<string, unknown>;
}

/** @inline */
type LayerFactory = (config: Record<string, unknown>) => Layer;

// Note [Layer registry]
// Loading a model must never evaluate code from the file: model.json names classes, and only
// classes registered here (every built-in layer registers itself where it is defined, users add
// their own with registerLayer) can be created. Each constructor validates its option names,
// so an unknown config key fails as it does in Keras.
const registry = new Map<string, LayerFactory>();

/** Makes a layer class loadable by name (built-in layers register themselves). */
export function registerLayer(className: string, factory: LayerFactory): void {
  registry.set(className, factory);
}

export function registeredLayers(): string[] {
  return [...registry.keys()].sort();
}

/** Creates a layer from its serialized form; unknown class names are rejected. */
export function deserializeLayer(spec: SerializedLayer, where = 'layer config'): Layer {
  if (typeof spec !== 'object' || spec === null || typeof spec.className !== 'string') {
    throw new ValueError(`${where}: expected {className, config}; received ${JSON.stringify(spec)?.slice(0, 200)}`);
  }
  const extra = Object.keys(spec).filter((k) => k !== 'className' && k !== 'config');
  if (extra.length) throw new ValueError(`${where}: unknown key ${extra.map((k) => `'${k}'`).join(', ')} beside className and config`);
  const factory = Object.hasOwn(Object.fromEntries(registry), spec.className) ? registry.get(spec.className) : undefined;
  if (!factory) {
    throw new ValueError(
      `${where}: unknown layer class '${spec.className}'; known classes: ${registeredLayers().join(', ')} (register custom layers with st.layers.registerLayer)`,
    );
  }
  if (typeof spec.config !== 'object' || spec.config === null || Array.isArray(spec.config)) {
    throw new ValueError(`${where}: the config of ${spec.className} must be an object; received ${JSON.stringify(spec.config)}`);
  }
  try {
    return factory(spec.config);
  } catch (e) {
    if (e instanceof StrataError && !e.message.startsWith(where)) e.message = `${where}: ${e.message}`;
    throw e;
  }
}

export function serializeLayer(layer: Layer): SerializedLayer {
  return { className: layer.className, config: layer.getConfig() };
}
