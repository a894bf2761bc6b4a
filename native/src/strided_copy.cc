// strided_copy (strided_copy.h): the copy behind transpose, broadcastTo and slice.
#include "strided_copy.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace strata {
namespace {

// Note [Strided copy paths]
// A transpose, broadcast or slice arrives as an output shape and one input stride per output
// axis. Walking that per element (for_each_offset2) costs a few ns an element whatever the
// pattern; NCHW -> NHWC of one 224x224 image took ~100 µs. The view is first simplified: size-1
// axes go (their stride never moves the offset) and neighbours that are contiguous in the input
// too (stride[i] == stride[i+1] * shape[i+1]) merge, so a slice of a batch or a transpose that
// keeps H and W together becomes rank 2 or 3. Then:
//   - innermost input stride 1 (slices, broadcasts of whole rows): a copy of contiguous runs,
//     one memcpy per output row;
//   - another axis with input stride 1 (a real transpose, NCHW <-> NHWC): that axis `a` and the
//     innermost `b` are copied in tiles of 16 x 16 elements, reading runs along a and
//     writing runs along b, so both sides touch whole cache lines; the remaining axes are walked
//     outside the tiles;
//   - anything else (a broadcast innermost axis, a slice keeping one element of the last axis):
//     the generic odometer over the simplified view.
// Work beyond kParallelBytes is split over the OpenMP team in contiguous ranges of output rows or
// tiles; below it an OpenMP region costs more than it saves. The result is a pure permutation of
// bytes whatever the path, so it is exact for every dtype.

// Note [Tiles and 4 KiB strides]
// L1 is 8-way and indexed by address bits 6-11, so rows whose stride is a multiple of 4 KiB all
// land in one set: a 16x16 tile writing 16 such output rows (NHWC -> NCHW of [1, 64, 64, 64],
// rows 16 KiB apart) or reading 16 such input rows evicts its own lines before they are full.
// The tile is cut to 8 along that side: NHWC -> NCHW of [1, 64, 64, 64] (output rows 16 KiB
// apart) went from 96 to 54 µs and of [1, 32, 32, 64] (4 KiB) from 16 to 10 µs; on the input
// side (NCHW -> NHWC of [1, 64, 64, 64]) it measured neutral. Strides that do not alias keep
// 16 x 16: on those shapes it beat 8 x 8, 8 x 32 and 16 x 32 and was on par with 32 x 32.

// Measured on the 2-core VM this was written on (an OpenMP region costs ~3 µs there): 2 threads
// lose on transposes and copies up to ~600 KB (these run from L2 at 10-30 GB/s on one core) and
// gain from about 1 MB on (NHWC -> NCHW of [32, 28, 28, 64], 6.4 MB: 250 -> 130-210 µs).
constexpr int64_t kParallelBytes = 1 << 20;

struct View {
  Shape shape, strides;
};

View simplify(const Shape& shape, const Shape& strides) {
  View v;
  for (size_t i = 0; i < shape.size(); i++) {
    if (shape[i] == 1) continue;
    if (!v.shape.empty() && v.strides.back() == strides[i] * shape[i]) {
      v.shape.back() *= shape[i];
      v.strides.back() = strides[i];
    } else {
      v.shape.push_back(shape[i]);
      v.strides.push_back(strides[i]);
    }
  }
  return v;
}

// Axes of an odometer: each has a size and one stride per walked buffer.
struct Axes {
  std::vector<int64_t> size, in, out;
  int64_t count() const {
    int64_t n = 1;
    for (const int64_t s : size) n *= s;
    return n;
  }
};

// Calls f(in_offset, out_offset) for the flat indices [from, to) of `axes` in row-major order:
// the start is decomposed once, then the offsets advance as an odometer.
template <typename F>
void walk(const Axes& axes, int64_t from, int64_t to, F&& f) {
  if (from >= to) return;
  const int rank = static_cast<int>(axes.size.size());
  std::vector<int64_t> idx(rank);
  int64_t in = 0, out = 0;
  for (int64_t d = rank - 1, rest = from; d >= 0; d--) {
    idx[d] = rest % axes.size[d];
    rest /= axes.size[d];
    in += idx[d] * axes.in[d];
    out += idx[d] * axes.out[d];
  }
  for (int64_t k = from; k < to; k++) {
    f(in, out);
    for (int d = rank - 1; d >= 0; d--) {
      in += axes.in[d];
      out += axes.out[d];
      if (++idx[d] < axes.size[d]) break;
      in -= axes.in[d] * axes.size[d];
      out -= axes.out[d] * axes.size[d];
      idx[d] = 0;
    }
  }
}

// Runs f(from, to) over `units` split into one contiguous range per thread when `parallel`.
template <typename F>
void split(int64_t units, bool parallel, F&& f) {
  const int64_t parts = parallel ? std::min<int64_t>(units, omp_get_max_threads()) : 1;
  parallel_for(parts, parts > 1, [&](int64_t p) { f(units * p / parts, units * (p + 1) / parts); });
}

// Contiguous runs: output rows of `run` elements, each a contiguous run of the input.
template <typename T>
void copy_runs(const T* x, T* y, const View& v, int64_t n) {
  const size_t rank = v.shape.size();
  const bool parallel = n * static_cast<int64_t>(sizeof(T)) > kParallelBytes;
  // One run (a contiguous block: a batch sliced off the leading axis): split the run itself.
  if (rank == 1) {
    split(n, parallel, [&](int64_t from, int64_t to) { std::memcpy(y + from, x + from, (to - from) * sizeof(T)); });
    return;
  }
  const int64_t run = v.shape[rank - 1];
  Axes rows;
  const Shape out_strides = strides_of(v.shape);
  for (size_t d = 0; d + 1 < rank; d++) {
    rows.size.push_back(v.shape[d]);
    rows.in.push_back(v.strides[d]);
    rows.out.push_back(out_strides[d]);
  }
  split(rows.count(), parallel, [&](int64_t from, int64_t to) {
    walk(rows, from, to, [&](int64_t i, int64_t o) {
      // A short run is cheaper as a loop than as a call into memcpy.
      if (run <= 8) {
        for (int64_t j = 0; j < run; j++) y[o + j] = x[i + j];
      } else {
        std::memcpy(y + o, x + i, run * sizeof(T));
      }
    });
  });
}

// A rectangle of a transpose: y[a * ya + b] = x[a + b * xb] for a < na, b < nb, in tiles of
// kTileA x kTileB whose loads along a and stores along b each stay within a few cache lines.
constexpr int64_t kTileA = 16, kTileB = 16;

template <typename T>
void transpose_rect(const T* __restrict x, T* __restrict y, int64_t na, int64_t nb, int64_t xb, int64_t ya) {
  for (int64_t a0 = 0; a0 < na; a0 += kTileA)
    for (int64_t b0 = 0; b0 < nb; b0 += kTileB) {
      const int64_t a1 = std::min(na, a0 + kTileA), b1 = std::min(nb, b0 + kTileB);
      for (int64_t a = a0; a < a1; a++)
        for (int64_t b = b0; b < b1; b++) y[a * ya + b] = x[a + b * xb];
    }
}

// 4-byte elements (float32, int32) get vector kernels, in GCC's generic vectors so that one
// source serves every STRATA_CLONES target.
typedef uint32_t u32x8 __attribute__((vector_size(32)));

// An 8x8 block in registers: eight rows along a are loaded (one per b), then three rounds
// swap the off-diagonal 1x1, 2x2 and 4x4 sub-blocks of each pair of rows, leaving row a of the
// transpose in r[a].
__attribute__((always_inline)) inline void transpose8x8(const uint32_t* x, uint32_t* y, int64_t xb, int64_t ya) {
  u32x8 r[8];
  // memcpy: unaligned vector loads and stores (no function takes or returns a vector, whose ABI
  // differs between the clones).
  for (int b = 0; b < 8; b++) std::memcpy(&r[b], x + b * xb, sizeof r[b]);
  const u32x8 lo1 = {0, 8, 2, 10, 4, 12, 6, 14}, hi1 = {1, 9, 3, 11, 5, 13, 7, 15};
  const u32x8 lo2 = {0, 1, 8, 9, 4, 5, 12, 13}, hi2 = {2, 3, 10, 11, 6, 7, 14, 15};
  const u32x8 lo4 = {0, 1, 2, 3, 8, 9, 10, 11}, hi4 = {4, 5, 6, 7, 12, 13, 14, 15};
  for (int i : {0, 2, 4, 6}) {
    const u32x8 p = r[i], q = r[i + 1];
    r[i] = __builtin_shuffle(p, q, lo1);
    r[i + 1] = __builtin_shuffle(p, q, hi1);
  }
  for (int i : {0, 1, 4, 5}) {
    const u32x8 p = r[i], q = r[i + 2];
    r[i] = __builtin_shuffle(p, q, lo2);
    r[i + 2] = __builtin_shuffle(p, q, hi2);
  }
  for (int i : {0, 1, 2, 3}) {
    const u32x8 p = r[i], q = r[i + 4];
    r[i] = __builtin_shuffle(p, q, lo4);
    r[i + 4] = __builtin_shuffle(p, q, hi4);
  }
  for (int a = 0; a < 8; a++) std::memcpy(y + a * ya, &r[a], sizeof r[a]);
}

// A few planes into one interleaved array (NCHW -> NHWC with C <= 4): y[a * NB + b] = x[a + b * xb].
// With NB a constant GCC vectorizes the interleave; the per-element loop it replaces did not.
template <int NB>
__attribute__((always_inline)) inline void interleave(const uint32_t* __restrict x, uint32_t* __restrict y, int64_t na, int64_t xb) {
  for (int64_t a = 0; a < na; a++)
    for (int b = 0; b < NB; b++) y[a * NB + b] = x[a + b * xb];
}

// The inverse (NHWC -> NCHW with C <= 4): y[a * ya + b] = x[a + b * NA].
template <int NA>
__attribute__((always_inline)) inline void deinterleave(const uint32_t* __restrict x, uint32_t* __restrict y, int64_t nb, int64_t ya) {
  for (int64_t b = 0; b < nb; b++)
    for (int a = 0; a < NA; a++) y[a * ya + b] = x[a + b * NA];
}

STRATA_CLONES void transpose_rect_u32(const uint32_t* __restrict x, uint32_t* __restrict y, int64_t na, int64_t nb, int64_t xb, int64_t ya) {
  if (ya == nb && nb >= 2 && nb <= 4) {
    if (nb == 2) return interleave<2>(x, y, na, xb);
    if (nb == 3) return interleave<3>(x, y, na, xb);
    return interleave<4>(x, y, na, xb);
  }
  if (xb == na && na >= 2 && na <= 4) {
    if (na == 2) return deinterleave<2>(x, y, nb, ya);
    if (na == 3) return deinterleave<3>(x, y, nb, ya);
    return deinterleave<4>(x, y, nb, ya);
  }
  // Note [Tiles and 4 KiB strides]
  const int64_t tile_a = ya % 1024 == 0 ? 8 : kTileA, tile_b = xb % 1024 == 0 ? 8 : kTileB;
  for (int64_t a0 = 0; a0 < na; a0 += tile_a)
    for (int64_t b0 = 0; b0 < nb; b0 += tile_b) {
      const int64_t a1 = std::min(na, a0 + tile_a), b1 = std::min(nb, b0 + tile_b);
      // Whole 8x8 blocks in registers, the ragged edge of the tile element by element.
      const int64_t a8 = a0 + (a1 - a0) / 8 * 8, b8 = b0 + (b1 - b0) / 8 * 8;
      for (int64_t a = a0; a < a8; a += 8)
        for (int64_t b = b0; b < b8; b += 8) transpose8x8(x + a + b * xb, y + a * ya + b, xb, ya);
      for (int64_t a = a0; a < a1; a++)
        for (int64_t b = a < a8 ? b8 : b0; b < b1; b++) y[a * ya + b] = x[a + b * xb];
    }
}

template <>
void transpose_rect<uint32_t>(const uint32_t* __restrict x, uint32_t* __restrict y, int64_t na, int64_t nb, int64_t xb, int64_t ya) {
  transpose_rect_u32(x, y, na, nb, xb, ya);
}

// Elements along the longer of a and b given to a work unit at a time (a multiple of the tile).
constexpr int64_t kChunk = 256;

// A transpose: view axis `ax` has input stride 1, the innermost axis does not. The remaining
// axes are walked outside; each (rest index, chunk of the longer of a and b) is a unit of work.
template <typename T>
void copy_transposed(const T* x, T* y, const View& v, size_t ax, int64_t n) {
  const size_t rank = v.shape.size();
  const Shape out_strides = strides_of(v.shape);
  const int64_t na = v.shape[ax], nb = v.shape[rank - 1];
  const int64_t xb = v.strides[rank - 1], ya = out_strides[ax];
  Axes rest;
  for (size_t d = 0; d + 1 < rank; d++) {
    if (d == ax) continue;
    rest.size.push_back(v.shape[d]);
    rest.in.push_back(v.strides[d]);
    rest.out.push_back(out_strides[d]);
  }
  const bool along_a = na >= nb;
  const int64_t chunks = ((along_a ? na : nb) + kChunk - 1) / kChunk;
  const int64_t units = rest.count() * chunks;
  split(units, n * static_cast<int64_t>(sizeof(T)) > kParallelBytes, [&](int64_t from, int64_t to) {
    for (int64_t u = from; u < to;) {
      // The units of one rest index are consecutive: find its offsets once for all of them.
      const int64_t r = u / chunks, first = u % chunks;
      const int64_t last = std::min(chunks, first + (to - u));
      walk(rest, r, r + 1, [&](int64_t i, int64_t o) {
        const int64_t lo = first * kChunk, hi = std::min(last * kChunk, along_a ? na : nb);
        if (along_a) transpose_rect(x + i + lo, y + o + lo * ya, hi - lo, nb, xb, ya);
        else transpose_rect(x + i + lo * xb, y + o + lo, na, hi - lo, xb, ya);
      });
      u += last - first;
    }
  });
}

template <typename T>
void copy_generic(const T* x, T* y, const View& v) {
  for_each_offset2(v.shape, v.strides, v.strides, [&](int64_t o, int64_t i, int64_t) { y[o] = x[i]; });
}

template <typename T>
void copy_view(const T* x, T* y, const View& v, int64_t n) {
  const size_t rank = v.shape.size();
  if (rank == 0) {
    y[0] = x[0];
    return;
  }
  if (v.strides[rank - 1] == 1) return copy_runs(x, y, v, n);
  for (size_t d = rank - 1; d-- > 0;)
    if (v.strides[d] == 1) return copy_transposed(x, y, v, d, n);
  copy_generic(x, y, v);
}

// Widths without a fast path are copied an element at a time as bytes.
void copy_view_bytes(const uint8_t* x, uint8_t* y, const View& v, size_t width) {
  for_each_offset2(v.shape, v.strides, v.strides,
                   [&](int64_t o, int64_t i, int64_t) { std::memcpy(y + o * width, x + i * width, width); });
}

}  // namespace

void strided_copy(const void* x, void* y, const Shape& shape, const Shape& strides, size_t width) {
  const int64_t n = size_of(shape);
  if (n == 0) return;
  const View v = simplify(shape, strides);
  switch (width) {
    case 1: return copy_view(static_cast<const uint8_t*>(x), static_cast<uint8_t*>(y), v, n);
    case 2: return copy_view(static_cast<const uint16_t*>(x), static_cast<uint16_t*>(y), v, n);
    case 4: return copy_view(static_cast<const uint32_t*>(x), static_cast<uint32_t*>(y), v, n);
    case 8: return copy_view(static_cast<const uint64_t*>(x), static_cast<uint64_t*>(y), v, n);
    default: return copy_view_bytes(static_cast<const uint8_t*>(x), static_cast<uint8_t*>(y), v, width);
  }
}

}  // namespace strata
