// Filters kept in the layout oneDNN's kernels want, so inference stops reordering them per call.
//
// Note [Reordered filters kept]
// Strata holds a convolution's filter as [kh, kw, in, out]; oneDNN's fast kernels want it
// blocked (e.g. OIhw16i16o), so every convolution used to reorder its filter first. In training
// the filter changes every step and that reorder is a small part of the work, but in inference
// it is the same reorder over and over: for an imported ResNet-18 at batch 1, 45 MB read and
// written per image, about a third of the convolutions' time. The reordered copy is therefore
// kept, keyed by the source buffer's stamp (common.h) and the layout: a stamp is given at
// allocation and again by restamp() before any kernel writes a buffer in place (the fused
// optimizer updates, MPI's in-place collectives), so a copy can only be found for the very
// contents it was made from. A buffer's copies are dropped when its memory is freed or it is
// restamped. The copies come from the caching allocator; st.memory() reports them apart from
// the tensors (native.reorderedFilters). The cache is bounded by bytes (least recently used
// first), and a filter bigger than the bound is reordered per call as before.
#pragma once

#include <dnnl.hpp>

#include <cstdint>

#include "common.h"

namespace strata {

// The filter in `b` (laid out as `user`) in layout `want`, reordered with `reorder` on the first
// call for these contents and layout and kept for the next. `scratch` receives a per-call copy
// when the cache cannot hold it; it must outlive the returned memory's use.
dnnl::memory reordered_filter(Buffer* b, const dnnl::memory::desc& user, const dnnl::memory::desc& want, const dnnl::reorder& reorder,
                              dnnl::memory& scratch);

// The copies made from buffer contents with this stamp are no longer wanted (freed or rewritten).
void forget_reordered(uint64_t stamp);

struct ReorderedFilterStats {
  int64_t entries, bytes, hits, misses;
};
ReorderedFilterStats reordered_filter_stats();

}  // namespace strata
