// The embedding and attention family of st.layers (issue 6, items 3 and 5).
import { MultiHeadAttention, type AttentionCallOptions, type MultiHeadAttentionArgs } from './attention.js';
import { Embedding, type EmbeddingArgs } from './embedding.js';
import { CompositeLayer, PositionalEmbedding, TransformerEncoder, type PositionalEmbeddingArgs, type TransformerEncoderArgs } from './transformer.js';

export { Embedding, MultiHeadAttention, PositionalEmbedding, TransformerEncoder, CompositeLayer };
export type { EmbeddingArgs, MultiHeadAttentionArgs, AttentionCallOptions, PositionalEmbeddingArgs, TransformerEncoderArgs };

/** The embedding and attention factories, spread into `st.layers`. */
export const attentionFamilyLayers = {
  /**
   * A lookup table of learned vectors (Keras's Embedding): integer ids [...] give [..., outputDim].
   * With `maskZero`, id 0 is padding and the mask flows to recurrent and attention layers.
   */
  embedding: (args: EmbeddingArgs) => new Embedding(args),
  /**
   * Multi-head scaled dot-product attention with Keras's weight layout (Keras's MultiHeadAttention).
   * Apply it as `mha.apply(query, {value, key, attentionMask, useCausalMask,
   * returnAttentionScores})`; value defaults to query (self-attention).
   */
  multiHeadAttention: (args: MultiHeadAttentionArgs) => new MultiHeadAttention(args),
  /**
   * Token embedding plus a learned position embedding (the PositionalEmbedding of Deep Learning with
   * Python, ch. 11).
   */
  positionalEmbedding: (args: PositionalEmbeddingArgs) => new PositionalEmbedding(args),
  /**
   * A post-norm transformer encoder block (Deep Learning with Python, ch. 11): self-attention and a
   * two-layer feed-forward network, each with a residual connection and layer normalization.
   */
  transformerEncoder: (args: TransformerEncoderArgs) => new TransformerEncoder(args),
};
