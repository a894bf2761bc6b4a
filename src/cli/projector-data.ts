// What `strata project` hands its page: the one contract between the command (src/cli/project.ts),
// which computes everything, and the page's script (src/pages/projector/), which only draws. The
// command writes it as JSON into the HTML it writes; nothing here runs.

/** The thumbnails of every sample, in one PNG laid out in rows of `columns`, sample i at (i % columns, floor(i / columns)). */
export interface ProjectorSprite {
  /** A data: URL of the PNG, so the page needs no other file. */
  url: string;
  columns: number;
  /** One thumbnail's size in pixels. */
  width: number;
  height: number;
}

/** One projection of one layer's activations, with what the page says about it. */
export interface ProjectorData {
  /** The run folder's name. */
  run: string;
  /** The model's name and the projected layer, its class and its output shape (without the batch axis). */
  model: string;
  layer: { name: string; className: string; shape: number[] };
  /** The features each sample has at that layer (the product of the shape). */
  features: number;
  method: 'pca' | 'umap';
  dims: 2 | 3;
  /** How the method ran, in words ("UMAP with 15 neighbours, min distance 0.1, seed 0"). */
  methodDetail: string;
  /** The axes' names, e.g. ["PC1", "PC2"]. */
  axes: string[];
  /** PCA: each axis's share of the variance of the activations, in [0, 1]. */
  explainedVarianceRatio?: number[];
  /** The samples and where they come from ("the first 2000 of the MNIST test set"). */
  dataset: string;
  testSplit: string;
  classNames: string[];
  /** `dims` coordinates per sample, sample after sample. */
  points: number[];
  /** The true class and the model's predicted class of each sample. */
  labels: number[];
  predicted: number[];
  sprite: ProjectorSprite;
  /** Seconds the activations and the reduction took, for the page's footer. */
  seconds: { activations: number; reduction: number };
}
