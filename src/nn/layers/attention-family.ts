// The embedding and attention family of st.layers (issue 6, items 3 and 5).
import { MultiHeadAttention, type AttentionCallOptions, type MultiHeadAttentionArgs } from './attention.js';
import { Embedding, type EmbeddingArgs } from './embedding.js';
import { CompositeLayer, PositionalEmbedding, TransformerEncoder, type PositionalEmbeddingArgs, type TransformerEncoderArgs } from './transformer.js';

export { Embedding, MultiHeadAttention, PositionalEmbedding, TransformerEncoder, CompositeLayer };
export type { EmbeddingArgs, MultiHeadAttentionArgs, AttentionCallOptions, PositionalEmbeddingArgs, TransformerEncoderArgs };

export const attentionFamilyLayers = {
  embedding: (args: EmbeddingArgs) => new Embedding(args),
  multiHeadAttention: (args: MultiHeadAttentionArgs) => new MultiHeadAttention(args),
  positionalEmbedding: (args: PositionalEmbeddingArgs) => new PositionalEmbedding(args),
  transformerEncoder: (args: TransformerEncoderArgs) => new TransformerEncoder(args),
};
