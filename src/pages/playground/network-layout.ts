// Where the network diagram's nodes go: the seven feature nodes in the first column, one column
// per hidden layer, the output node last; nodes top-aligned in each column. Pure geometry, so the
// view only creates elements at these places.

export const NODE = 38;
const ROW = 50;
/** Room left of the feature column for the features' names. */
const LABELS = 64;
/** Room above the columns for each layer's +/- buttons. */
export const TOP = 34;

export interface NodePlace {
  x: number;
  y: number;
}

export interface Layout {
  width: number;
  height: number;
  /** columns[c][i]: the top-left corner of node i of column c (features, hidden layers, output). */
  columns: NodePlace[][];
  /** Left edge of each column's nodes, for the per-layer controls above them. */
  columnX: number[];
}

export function layoutNetwork(width: number, featureCount: number, layers: readonly number[]): Layout {
  const counts = [featureCount, ...layers, 1];
  const usable = Math.max(width, LABELS + NODE * counts.length * 2);
  const gap = (usable - LABELS - NODE) / (counts.length - 1);
  const columnX = counts.map((_, c) => LABELS + c * gap);
  const columns = counts.map((count, c) =>
    Array.from({ length: count }, (_, i) => ({
      x: columnX[c],
      // The output node sits level with the first row, next to where the output panel begins.
      y: TOP + i * ROW,
    })),
  );
  const tallest = Math.max(...counts);
  return { width: usable, height: TOP + tallest * ROW, columns, columnX };
}

/** An S-shaped path from the right middle of one node to the left middle of the next column's node. */
export function linkPath(from: NodePlace, to: NodePlace): string {
  const x1 = from.x + NODE;
  const y1 = from.y + NODE / 2;
  const x2 = to.x;
  const y2 = to.y + NODE / 2;
  const mid = (x1 + x2) / 2;
  return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`;
}
