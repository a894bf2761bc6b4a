// model.json: what it may hold, checked strictly before anything in it is used. A key we do not
// know means a file we cannot trust (as Keras does for layer configs). Version 2 (Note [Atomic
// model saves] in node/file-store.ts) names its data files and records their sizes and checksums; version 1
// used fixed names and is still read.

import { FormatError } from '../core/errors.js';
import type { FileRecord } from '../io/file-record.js';
import { parseJsonFile } from '../io/bounded-json.js';
import type { SerializedLayer } from '../nn/registry.js';

export const FORMAT = 'strata-model';
export const FORMAT_VERSION = 2;
export const MODEL_FILE = 'model.json';
/** The fixed data file names of format version 1. */
export const V1_FILES = { weights: 'weights.safetensors', optimizer: 'optimizer.safetensors' } as const;

/** model.json's record of `compile`'s arguments, by name. */
export interface TrainingConfig {
  /** The optimizer's class and its config (getConfig()). */
  optimizer: {
    /** The optimizer's class name. */
    className: string;
    /** Its options. */
    config: Record<string, unknown>;
  };
  /** One loss name per output. */
  loss: string[];
  /** The metric names of each output. */
  metrics: string[][];
  /** One weight per output's loss. */
  lossWeights: number[];
  /** Present when compile had weightedMetrics. */
  weightedMetrics?: string[][];
}

/** model.json: a saved model's architecture, training configuration and the list of its files. */
export interface Manifest {
  /** Always 'strata-model'. */
  format: string;
  /** 1 or 2 (2 records each data file's size and SHA-256). */
  formatVersion: number;
  /** The architecture: the model's serialized layer graph. */
  model: SerializedLayer;
  /** compile's arguments, or null for a model saved uncompiled. */
  trainingConfig: TrainingConfig | null;
  /** Each weight's key in the weights file, shape, dtype and whether it trains. */
  weights: {
    /** The tensor's name in the weights file. */
    key: string;
    /** Its shape. */
    shape: number[];
    /** Its dtype. */
    dtype: string;
    /** Whether training updates it. */
    trainable?: boolean;
  }[];
  /** How many tensors the optimizer state file holds, or null without one. */
  optimizerState: {
    /** Tensors in the optimizer state file. */
    entries: number;
  } | null;
  /** Version 2: the data files of this save. Version 1 manifests get their fixed names here on parsing. */
  files: {
    /** The weights file. */
    weights: FileRecord;
    /** The optimizer state file, when compiled. */
    optimizer: FileRecord | null;
  };
  /** tfjs's userDefinedMetadata: any JSON object the user attached with model.setUserDefinedMetadata. */
  userDefinedMetadata?: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const isShape = (s: unknown) => Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && d >= 0);

function onlyKeys(file: string, where: string, obj: object, allowed: readonly string[]): void {
  const unknown = Object.keys(obj).find((k) => !allowed.includes(k));
  if (unknown !== undefined) throw new FormatError(`${file}: unknown key '${unknown}'${where ? ` in ${where}` : ''}; expected ${allowed.join(', ')}`);
}

const excerpt = (v: unknown) => JSON.stringify(v)?.slice(0, 200);

/**
 * A data file's record: a plain file name in the model's folder (never a path: a manifest must
 * not reach outside its folder), a size and a SHA-256 in hex.
 */
function checkRecord(file: string, role: string, r: unknown): FileRecord {
  const ok =
    isObject(r) &&
    typeof r.path === 'string' &&
    /^[A-Za-z0-9._-]+$/.test(r.path) &&
    !r.path.startsWith('.') &&
    Number.isSafeInteger(r.bytes) &&
    (r.bytes as number) >= 0 &&
    typeof r.sha256 === 'string' &&
    /^[0-9a-f]{64}$/.test(r.sha256);
  if (!ok) throw new FormatError(`${file}: "files.${role}" must be {path: a file name in the model's folder, bytes, sha256}; received ${excerpt(r)}`);
  onlyKeys(file, `files.${role}`, r, ['path', 'bytes', 'sha256']);
  return r as unknown as FileRecord;
}

function checkTrainingConfig(file: string, tc: unknown): void {
  if (tc === null || tc === undefined) return;
  const ok =
    isObject(tc) &&
    isObject(tc.optimizer) &&
    isObject(tc.optimizer.config) &&
    isStringList(tc.loss) &&
    Array.isArray(tc.metrics) &&
    tc.metrics.every(isStringList) &&
    Array.isArray(tc.lossWeights) &&
    tc.lossWeights.every((w) => typeof w === 'number');
  if (!ok)
    throw new FormatError(
      `${file}: "trainingConfig" must be {optimizer: {className, config}, loss: [names], metrics: [[names]], lossWeights: [numbers]} or null; received ${excerpt(tc)}`,
    );
  if (tc.weightedMetrics !== undefined && !(Array.isArray(tc.weightedMetrics) && tc.weightedMetrics.every(isStringList))) {
    throw new FormatError(`${file}: "trainingConfig.weightedMetrics" must be [[names]]; received ${excerpt(tc.weightedMetrics)}`);
  }
  onlyKeys(file, 'trainingConfig', tc, ['optimizer', 'loss', 'metrics', 'lossWeights', 'weightedMetrics']);
  onlyKeys(file, 'trainingConfig.optimizer', tc.optimizer as object, ['className', 'config']);
}

/**
 * A model.json in another library's format (tfjs's LayersModel: `modelTopology` and
 * `weightsManifest`), which st.loadModel hands to the importer registered for it (models/load.ts).
 */
export class ForeignModelFile extends FormatError {
  constructor(
    /** The model.json's path or URL, as the store read it. */
    readonly file: string,
    /** The format's name ('tfjs-layers'). */
    readonly format: string,
  ) {
    super(`${file}: a ${format} model.json, not a Strata model file (expected "format": "${FORMAT}"); import it with st.tfjs.load`);
  }
}

/** Parses and checks model.json (either version); `file` names it in every error. */
export function parseManifest(file: string, bytes: Uint8Array): Manifest {
  const m = parseJsonFile(bytes, file) as Record<string, unknown>;
  if (isObject(m) && m.format !== FORMAT && 'modelTopology' in m && 'weightsManifest' in m) throw new ForeignModelFile(file, 'tfjs-layers');
  if (!isObject(m) || m.format !== FORMAT)
    throw new FormatError(
      `${file}: not a Strata model file (expected "format": "${FORMAT}"; received ${excerpt((m as { format?: unknown } | null)?.format)})`,
    );
  const version = m.formatVersion;
  if (version !== 1 && version !== FORMAT_VERSION) {
    throw new FormatError(`${file}: format version ${excerpt(version)} is not supported (this Strata reads versions 1 and ${FORMAT_VERSION})`);
  }
  const keys = ['format', 'formatVersion', 'model', 'trainingConfig', 'weights', 'optimizerState'];
  onlyKeys(file, '', m, version === 1 ? keys : [...keys, 'files', 'userDefinedMetadata']);
  const weights = m.weights;
  if (!Array.isArray(weights) || !weights.every((w) => isObject(w) && typeof w.key === 'string' && isShape(w.shape) && typeof w.dtype === 'string')) {
    throw new FormatError(`${file}: "weights" must be a list of {key, shape, dtype} with shapes of non-negative integers`);
  }
  weights.forEach((w, i) => onlyKeys(file, `weights[${i}]`, w, ['key', 'shape', 'dtype', 'trainable']));
  checkTrainingConfig(file, m.trainingConfig);
  const os = m.optimizerState;
  if (os !== null && os !== undefined && !(isObject(os) && Number.isSafeInteger(os.entries) && (os.entries as number) >= 1)) {
    throw new FormatError(`${file}: "optimizerState" must be {entries} or null; received ${excerpt(os)}`);
  }
  if (os) onlyKeys(file, 'optimizerState', os, version === 1 ? ['file', 'entries'] : ['entries']);

  let files: Manifest['files'];
  if (version === 1) {
    files = {
      weights: { path: V1_FILES.weights, bytes: -1, sha256: '' },
      optimizer: os ? { path: V1_FILES.optimizer, bytes: -1, sha256: '' } : null,
    };
  } else {
    const f = m.files;
    if (!isObject(f)) throw new FormatError(`${file}: "files" must be {weights, optimizer}; received ${excerpt(f)}`);
    onlyKeys(file, 'files', f, ['weights', 'optimizer']);
    files = {
      weights: checkRecord(file, 'weights', f.weights),
      optimizer: f.optimizer === null || f.optimizer === undefined ? null : checkRecord(file, 'optimizer', f.optimizer),
    };
    if (Boolean(files.optimizer) !== Boolean(os)) throw new FormatError(`${file}: "files.optimizer" and "optimizerState" must be present together`);
  }
  const meta = m.userDefinedMetadata;
  if (meta !== undefined && !isObject(meta)) throw new FormatError(`${file}: "userDefinedMetadata" must be an object; received ${excerpt(meta)}`);
  return { ...(m as unknown as Manifest), optimizerState: os ? { entries: os.entries as number } : null, files };
}

/** Whether a record comes from a version 1 manifest (no size or checksum to verify). */
export const isUnrecorded = (r: FileRecord): boolean => r.bytes < 0;

/** The data file names a manifest points at (the files a save must not delete). */
export function listedFiles(manifest: Manifest): string[] {
  return [manifest.files.weights.path, ...(manifest.files.optimizer ? [manifest.files.optimizer.path] : [])];
}
