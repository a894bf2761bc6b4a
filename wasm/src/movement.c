// Data movement: strided copies (transpose, broadcastTo, slice), the strided scatter pad uses,
// gather, scatterAdd, and a plain matmul (W2's gemm.c has the fast one).
#include "strata.h"

// A transpose-like copy of 4-byte elements (the input is not contiguous along the output's last
// axis) in 16 x 16 tiles of the last two axes, so both the reads and the writes stay within a few
// cache lines per tile instead of striding through memory on one side.
static void tiled_copy(const uint32_t* x, uint32_t* y, int rank, const int32_t* shape, const int32_t* strides, int64_t base, int tid, int nthreads) {
  enum { T = 16 };
  const int64_t R = shape[rank - 2], C = shape[rank - 1], sr = strides[rank - 2], sc = strides[rank - 1];
  int64_t outer = 1;
  for (int d = 0; d < rank - 2; d++) outer *= shape[d];
  const int64_t tilesR = (R + T - 1) / T;
  int64_t u0, u1;
  thread_range(outer * tilesR, tid, nthreads, &u0, &u1);
  for (int64_t u = u0; u < u1; u++) {
    const int64_t o = u / tilesR, r0 = (u % tilesR) * T;
    int64_t rest = o, ix = base;
    for (int d = rank - 3; d >= 0; d--) {
      ix += (rest % shape[d]) * strides[d];
      rest /= shape[d];
    }
    const int64_t r1 = r0 + T < R ? r0 + T : R;
    uint32_t* yo = y + o * R * C;
    for (int64_t c0 = 0; c0 < C; c0 += T) {
      const int64_t c1 = c0 + T < C ? c0 + T : C;
      for (int64_t r = r0; r < r1; r++)
        for (int64_t c = c0; c < c1; c++) yo[r * C + c] = x[ix + r * sr + c * sc];
    }
  }
}

// Output row-major of `shape`; the input element at base + sum(idx[d] * strides[d]). elem 1 or 4.
EXPORT(strided_copy)
void strided_copy(int elem, const void* x, void* y, int rank, const int32_t* shape, const int32_t* strides, int base, int tid, int nthreads) {
  const int64_t inner = rank ? shape[rank - 1] : 1, si = rank ? strides[rank - 1] : 0;
  if (elem == 4 && rank >= 2 && si > 1 && inner >= 8 && shape[rank - 2] >= 8) {
    tiled_copy(x, y, rank, shape, strides, base, tid, nthreads);
    return;
  }
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= shape[d];
  int64_t r0, r1;
  thread_range(rows, tid, nthreads, &r0, &r1);
  for (int64_t r = r0; r < r1; r++) {
    int64_t rest = r, ix = base;
    for (int d = rank - 2; d >= 0; d--) {
      ix += (rest % shape[d]) * strides[d];
      rest /= shape[d];
    }
    if (elem == 4) {
      const uint32_t* x4 = (const uint32_t*)x + ix;
      uint32_t* y4 = (uint32_t*)y + r * inner;
      if (si == 1)
        __builtin_memcpy(y4, x4, inner * 4);
      else
        for (int64_t j = 0; j < inner; j++) y4[j] = x4[j * si];
    } else {
      const uint8_t* x1 = (const uint8_t*)x + ix;
      uint8_t* y1 = (uint8_t*)y + r * inner;
      for (int64_t j = 0; j < inner; j++) y1[j] = x1[j * si];
    }
  }
}

// The transpose of strided_copy: contiguous x of `shape` written to y at base + sum(idx * strides).
EXPORT(strided_scatter)
void strided_scatter(int elem, const void* x, void* y, int rank, const int32_t* shape, const int32_t* strides, int base) {
  const int64_t inner = rank ? shape[rank - 1] : 1, si = rank ? strides[rank - 1] : 0;
  int64_t rows = 1;
  for (int d = 0; d < rank - 1; d++) rows *= shape[d];
  for (int64_t r = 0; r < rows; r++) {
    int64_t rest = r, iy = base;
    for (int d = rank - 2; d >= 0; d--) {
      iy += (rest % shape[d]) * strides[d];
      rest /= shape[d];
    }
    if (elem == 4) {
      const uint32_t* x4 = (const uint32_t*)x + r * inner;
      uint32_t* y4 = (uint32_t*)y + iy;
      for (int64_t j = 0; j < inner; j++) y4[j * si] = x4[j];
    } else {
      const uint8_t* x1 = (const uint8_t*)x + r * inner;
      uint8_t* y1 = (uint8_t*)y + iy;
      for (int64_t j = 0; j < inner; j++) y1[j * si] = x1[j];
    }
  }
}

// x [outer, dim, inner], idx [count] -> y [outer, count, inner].
EXPORT(gather)
void gather(int elem, const void* x, const int32_t* idx, void* y, int outer, int dim, int count, int inner, int tid, int nthreads) {
  int64_t r0, r1;
  thread_range((int64_t)outer * count, tid, nthreads, &r0, &r1);
  const int64_t row = (int64_t)inner * elem;
  for (int64_t r = r0; r < r1; r++) {
    const int64_t o = r / count, c = r % count;
    __builtin_memcpy((uint8_t*)y + r * row, (const uint8_t*)x + (o * dim + idx[c]) * row, row);
  }
}

// updates [outer, count, inner], idx [count] -> y [outer, size, inner] (zeroed by the caller), summed.
EXPORT(scatter_add)
void scatter_add(int dt, const void* u, const int32_t* idx, void* y, int outer, int size, int count, int inner) {
  for (int64_t o = 0; o < outer; o++) {
    for (int64_t c = 0; c < count; c++) {
      const int64_t dst = (o * size + idx[c]) * inner, src = (o * count + c) * inner;
      if (dt == DT_F32) {
        const float* us = (const float*)u + src;
        float* ys = (float*)y + dst;
        int64_t i = 0;
        for (; i + 4 <= inner; i += 4) wasm_v128_store(ys + i, wasm_f32x4_add(wasm_v128_load(ys + i), wasm_v128_load(us + i)));
        for (; i < inner; i++) ys[i] += us[i];
      } else if (dt == DT_I32) {
        for (int64_t i = 0; i < inner; i++) ((int32_t*)y)[dst + i] = (int32_t)((uint32_t)((int32_t*)y)[dst + i] + (uint32_t)((const int32_t*)u)[src + i]);
      } else {
        for (int64_t i = 0; i < inner; i++) ((uint8_t*)y)[dst + i] += ((const uint8_t*)u)[src + i];
      }
    }
  }
}

// A plain batched matmul [B, M, K] x [B, K, N] (either transposed), float32 or int32 (wrapping), for
// when no faster kernel is registered. Rows of the output are split across threads.
EXPORT(core_matmul)
void core_matmul(int dt, const void* a, const void* b, void* y, int batch, int m, int k, int n, int ta, int tb, int tid, int nthreads) {
  int64_t r0, r1;
  thread_range((int64_t)batch * m, tid, nthreads, &r0, &r1);
  const int64_t aRow = ta ? 1 : k, aCol = ta ? m : 1, bRow = tb ? 1 : n, bCol = tb ? k : 1;  // b: (p, j) at p * bRow + j * bCol
  for (int64_t r = r0; r < r1; r++) {
    const int64_t t = r / m, i = r % m;
    const int64_t aBase = t * (int64_t)m * k + i * aRow, bBase = t * (int64_t)k * n;
    if (dt == DT_F32) {
      const float *as = (const float*)a + aBase, *bs = (const float*)b + bBase;
      float* ys = (float*)y + r * n;
      for (int64_t j = 0; j < n; j++) ys[j] = 0;
      if (!tb) {
        for (int64_t p = 0; p < k; p++) {
          const v128_t av = wasm_f32x4_splat(as[p * aCol]);
          const float* bp = bs + p * n;
          int64_t j = 0;
          for (; j + 4 <= n; j += 4) wasm_v128_store(ys + j, wasm_f32x4_add(wasm_v128_load(ys + j), wasm_f32x4_mul(av, wasm_v128_load(bp + j))));
          for (; j < n; j++) ys[j] += as[p * aCol] * bp[j];
        }
      } else {
        for (int64_t j = 0; j < n; j++) {
          float s = 0;
          for (int64_t p = 0; p < k; p++) s += as[p * aCol] * bs[j * k + p];
          ys[j] = s;
        }
      }
    } else {
      const int32_t *as = (const int32_t*)a + aBase, *bs = (const int32_t*)b + bBase;
      int32_t* ys = (int32_t*)y + r * n;
      for (int64_t j = 0; j < n; j++) {
        uint32_t s = 0;
        for (int64_t p = 0; p < k; p++) s += (uint32_t)as[p * aCol] * (uint32_t)bs[p * bRow + j * bCol];
        ys[j] = (int32_t)s;
      }
    }
  }
}

// rows x bytes from x (rows `xs` bytes apart) to y (rows `ys` bytes apart): one input of a concat.
EXPORT(copy_rows) void copy_rows(const uint8_t* x, uint8_t* y, int rows, int bytes, int xs, int ys, int tid, int nthreads) {
  int64_t r0, r1;
  thread_range(rows, tid, nthreads, &r0, &r1);
  for (int64_t r = r0; r < r1; r++) __builtin_memcpy(y + r * ys, x + r * xs, bytes);
}
