import { ShapeError, ValueError } from '../../core/errors.js';

/**
 * Counts of (true class, predicted class) pairs: `m[t][p]` is how many samples of class t were
 * predicted as p. Labels must be integers in [0, numClasses).
 */
export function confusionMatrix(yTrue: Int32Array | number[], yPred: Int32Array | number[], numClasses: number): number[][] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ValueError(`confusionMatrix: numClasses must be a positive integer; received ${numClasses}`);
  }
  if (yTrue.length !== yPred.length) {
    throw new ShapeError(`confusionMatrix: yTrue and yPred must have the same length; received ${yTrue.length} and ${yPred.length}`);
  }
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i];
    const p = yPred[i];
    for (const [name, v] of [
      ['yTrue', t],
      ['yPred', p],
    ] as const) {
      if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
        throw new ValueError(`confusionMatrix: ${name}[${i}] must be an integer class in [0, ${numClasses}); received ${v}`);
      }
    }
    m[t][p]++;
  }
  return m;
}
