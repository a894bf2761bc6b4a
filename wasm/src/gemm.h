// The packed SGEMM of gemm.c (Note [WASM SGEMM]), for the kernels that build on it (conv.c).
#ifndef STRATA_GEMM_H
#define STRATA_GEMM_H
#include "strata.h"

#define GEMM_MR 6
#define GEMM_NR 8
#define GEMM_KC 256
#define GEMM_MC 72
#define GEMM_NC 512
// Row ranges this short read an untransposed B in place instead of packing it (Note [WASM SGEMM]).
#define GEMM_DIRECT_B_ROWS 16
// Tiles per thread a product is cut into, for threads to take dynamically (Note [WASM SGEMM]).
#define GEMM_TILES_PER_THREAD 4
// Floats of packing space one thread's gemm_range needs.
#define GEMM_WS_FLOATS (GEMM_MC * GEMM_KC + GEMM_KC * GEMM_NC)

// Rows [m0, m1) x columns [n0, n1) of C (leading dimension ldc) = act(op(A) · op(B) + bias), with
// op(A)(i, p) = a[i * ars + p * acs] and op(B)(p, j) = b[p * brs + j * bcs]; bias (indexed by
// column) and relu apply after the whole sum; accumulate adds the product to C instead. One
// thread, packing into ws (GEMM_WS_FLOATS).
void gemm_range(const float *a, int ars, int acs, const float *b, int brs, int bcs, float *c, int ldc, int K, int m0, int m1, int n0, int n1,
                const float *bias, int relu, int accumulate, float *ws);

#endif
