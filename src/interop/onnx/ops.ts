// The table of supported ONNX operators (default domain), by family.
import { ValueError } from '../../core/errors.js';
import type { OpHandler } from './op-context.js';
import { CONV } from './ops-conv.js';
import { ELEMENTWISE } from './ops-elementwise.js';
import { EXTRA } from './ops-extra.js';
import { LINEAR } from './ops-linear.js';
import { RECURRENT } from './ops-recurrent.js';
import { RESIZE } from './ops-resize.js';
import { SHAPE } from './ops-shape.js';

const HANDLERS: Record<string, OpHandler> = { ...ELEMENTWISE, ...CONV, ...LINEAR, ...SHAPE, ...RESIZE, ...RECURRENT, ...EXTRA };

/** The operator types the importer supports, sorted. */
export function supportedOps(): string[] {
  return Object.keys(HANDLERS).sort();
}

export function isSupported(opType: string): boolean {
  return Object.hasOwn(HANDLERS, opType);
}

export function handlerOf(opType: string, where: string): OpHandler {
  if (!isSupported(opType)) throw new ValueError(`${where}: unsupported ONNX operator ${opType}; supported: ${supportedOps().join(', ')}`);
  return HANDLERS[opType];
}
