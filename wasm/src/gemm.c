// Single-precision matrix products for the wasm backend: the packed, blocked SGEMM every
// float32 matmul, fusedMatMul and im2col convolution runs on, and a plain int32 loop.
#include "gemm.h"

// Note [WASM SGEMM]
// C[M, N] = op(A)[M, K] · op(B)[K, N], op a transpose or not, laid out as in the Goto / BLIS
// scheme. The innermost micro-kernel keeps a GEMM_MR x GEMM_NR = 6 x 8 tile of C in 12 f32x4
// accumulators; each step of k loads two f32x4 of B and splats six scalars of A, so with the
// product temporary 15 of x86-64's 16 vector registers are in use (a 4x16 or 8x8 tile would need
// 16 accumulators alone). wasm SIMD 128 has no fused multiply-add (relaxed-simd is not allowed),
// so each update is a mul then an add: 24 vector operations per step of k for 96 flops, which
// the three x86 ports that multiply or add (p0, p1, p5 on Golden Cove) issue in about 8 cycles,
// 12 flops a cycle. Measured in Node 20 on one core of a Xeon (Sapphire Rapids): 30-35 GFLOP/s
// for 256³ and the MLP's 64x784x512 products, about that bound (unrolling k by 2 was slower).
// Around it three loops of cache blocking: for a GEMM_NC-column block of B and a GEMM_KC-deep
// slice of k, B is packed once into GEMM_NR-wide panels (k-major, kc x 8 floats = 8 KB, in L1
// while the rows stream past), then for each GEMM_MC-row block A is packed into GEMM_MR-tall
// panels (L2) and every (row panel, column panel) pair runs the micro-kernel. Packing makes the
// micro-kernel see unit-stride, zero-padded operands whatever the transposes, so edges (M, N
// not multiples of 6 and 8) cost only a copy of the partial tile, and transposes only change
// how the packing reads. The first k slice stores into C, later ones add to it, and the last
// applies the fused bias and ReLU on the way out. With few rows (at most GEMM_DIRECT_B_ROWS, as
// a convolution's filter gradient for a thin input) an untransposed B is not packed: each of its
// values meets too few rows of A to repay the copy, and the micro-kernel reads its rows in place.
// Threads: the batch's matrices are cut into about GEMM_TILES_PER_THREAD tiles per thread, each
// matrix an nm x nn grid of row and column ranges (gemm_partition), and the threads take tiles
// from a shared counter until none is left, each packing what its tile reads into its own slice
// of the workspace `ws` (the caller allocates GEMM_WS_FLOATS per slot for `slots` threads;
// threads beyond the slots stay idle). Taking tiles rather than a fixed share keeps a thread that
// the system deschedules (a busy machine, a background tab's worker) from holding up the rest:
// the others take its tiles. Every element is computed whole by one thread in the same order
// whatever the tiles, so the result does not depend on the thread count.

EXPORT(gemm_ws_floats) int gemm_ws_floats(void) { return GEMM_WS_FLOATS; }

// op(A) rows [i0, i0 + mc) x k range [p0, p0 + kc) into MR-tall panels: panel r, step p holds
// MR values at ap[(r * kc + p) * MR]. Rows past M are zeros.
static void pack_a(const float *a, int rs, int cs, int i0, int mc, int p0, int kc, float *restrict ap) {
  for (int r = 0; r < mc; r += GEMM_MR) {
    int rows = mc - r < GEMM_MR ? mc - r : GEMM_MR;
    float *dst = ap + r * kc;
    const float *src = a + (size_t)(i0 + r) * rs + (size_t)p0 * cs;
    if (rs == 1 && rows == GEMM_MR) {
      // Transposed A: the MR values of one k step are contiguous.
      for (int p = 0; p < kc; p++) {
        const float *s = src + (size_t)p * cs;
        wasm_v128_store(dst + p * GEMM_MR, wasm_v128_load(s));
        dst[p * GEMM_MR + 4] = s[4];
        dst[p * GEMM_MR + 5] = s[5];
      }
      continue;
    }
    for (int q = 0; q < rows; q++) {
      const float *s = src + (size_t)q * rs;
      if (cs == 1)
        for (int p = 0; p < kc; p++) dst[p * GEMM_MR + q] = s[p];
      else
        for (int p = 0; p < kc; p++) dst[p * GEMM_MR + q] = s[(size_t)p * cs];
    }
    for (int q = rows; q < GEMM_MR; q++)
      for (int p = 0; p < kc; p++) dst[p * GEMM_MR + q] = 0.0f;
  }
}

// op(B) k range [p0, p0 + kc) x columns [j0, j0 + nc) into NR-wide panels: panel c, step p
// holds NR values at bp[(c * kc + p) * NR]. Columns past N are zeros.
static void pack_b(const float *b, int rs, int cs, int p0, int kc, int j0, int nc, float *restrict bp) {
  for (int c = 0; c < nc; c += GEMM_NR) {
    int cols = nc - c < GEMM_NR ? nc - c : GEMM_NR;
    float *dst = bp + c * kc;
    const float *src = b + (size_t)p0 * rs + (size_t)(j0 + c) * cs;
    if (cs == 1 && cols == GEMM_NR) {
      for (int p = 0; p < kc; p++) {
        const float *s = src + (size_t)p * rs;
        wasm_v128_store(dst + p * GEMM_NR, wasm_v128_load(s));
        wasm_v128_store(dst + p * GEMM_NR + 4, wasm_v128_load(s + 4));
      }
      continue;
    }
    if (rs == 1 && cols == GEMM_NR) {
      // Transposed B: each column is contiguous in k; transpose 4x4 blocks through registers.
      int p = 0;
      for (; p + 4 <= kc; p += 4) {
        for (int h = 0; h < 2; h++) {
          const float *s = src + (size_t)(4 * h) * cs + p;
          v128_t r0 = wasm_v128_load(s), r1 = wasm_v128_load(s + cs), r2 = wasm_v128_load(s + 2 * (size_t)cs),
                 r3 = wasm_v128_load(s + 3 * (size_t)cs);
          v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7);
          v128_t t2 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
          float *d = dst + p * GEMM_NR + 4 * h;
          wasm_v128_store(d, wasm_i64x2_shuffle(t0, t2, 0, 2));
          wasm_v128_store(d + GEMM_NR, wasm_i64x2_shuffle(t0, t2, 1, 3));
          wasm_v128_store(d + 2 * GEMM_NR, wasm_i64x2_shuffle(t1, t3, 0, 2));
          wasm_v128_store(d + 3 * GEMM_NR, wasm_i64x2_shuffle(t1, t3, 1, 3));
        }
      }
      for (; p < kc; p++)
        for (int q = 0; q < GEMM_NR; q++) dst[p * GEMM_NR + q] = src[(size_t)q * cs + p];
      continue;
    }
    for (int p = 0; p < kc; p++) {
      const float *s = src + (size_t)p * rs;
      for (int q = 0; q < cols; q++) dst[p * GEMM_NR + q] = s[(size_t)q * cs];
      for (int q = cols; q < GEMM_NR; q++) dst[p * GEMM_NR + q] = 0.0f;
    }
  }
}

// How a tile leaves the micro-kernel: stored or added, then with the bias and ReLU (last k slice).
typedef struct {
  int accumulate;
  const float *bias; // at the tile's first column, or 0
  int relu;
} Epilogue;

static inline v128_t finish(v128_t acc, const float *c, const float *bias, const Epilogue *e) {
  if (e->accumulate) acc = wasm_f32x4_add(acc, wasm_v128_load(c));
  if (bias) acc = wasm_f32x4_add(acc, wasm_v128_load(bias));
  // pmax(v, 0) is v < 0 ? 0 : v, so NaN passes through as in the reference's ReLU.
  if (e->relu) acc = wasm_f32x4_pmax(acc, wasm_f32x4_splat(0.0f));
  return acc;
}

#define GEMM_ROW(r)                                                                                                                  \
  {                                                                                                                                  \
    v128_t av = wasm_v128_load32_splat(ap + r);                                                                                      \
    c##r##0 = wasm_f32x4_add(c##r##0, wasm_f32x4_mul(av, b0));                                                                      \
    c##r##1 = wasm_f32x4_add(c##r##1, wasm_f32x4_mul(av, b1));                                                                      \
  }
#define GEMM_STORE(r)                                                                                                                \
  {                                                                                                                                  \
    float *cr = c + (size_t)r * ldc;                                                                                                 \
    wasm_v128_store(cr, finish(c##r##0, cr, e->bias, e));                                                                            \
    wasm_v128_store(cr + 4, finish(c##r##1, cr + 4, e->bias ? e->bias + 4 : 0, e));                                                  \
  }

// One MR x NR tile: c (leading dimension ldc) gets a's panel times b's panel over kc steps. A
// partial tile (rows x cols smaller) goes through a full-size scratch tile.
static void micro_kernel(int kc, const float *restrict ap, const float *restrict bp, int ldb, float *c, int ldc, int rows, int cols, const Epilogue *e) {
  v128_t z = wasm_f32x4_splat(0.0f);
  v128_t c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
  for (int p = 0; p < kc; p++) {
    v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
    GEMM_ROW(0) GEMM_ROW(1) GEMM_ROW(2) GEMM_ROW(3) GEMM_ROW(4) GEMM_ROW(5)
    ap += GEMM_MR;
    bp += ldb;
  }
  if (rows == GEMM_MR && cols == GEMM_NR) {
    GEMM_STORE(0) GEMM_STORE(1) GEMM_STORE(2) GEMM_STORE(3) GEMM_STORE(4) GEMM_STORE(5)
    return;
  }
  float tile[GEMM_MR * GEMM_NR] __attribute__((aligned(16)));
  float bias[GEMM_NR] __attribute__((aligned(16)));
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < cols; q++) tile[r * GEMM_NR + q] = c[(size_t)r * ldc + q];
  if (e->bias)
    for (int q = 0; q < GEMM_NR; q++) bias[q] = q < cols ? e->bias[q] : 0.0f;
  Epilogue local = {e->accumulate, e->bias ? bias : 0, e->relu};
  {
    float *saved = c;
    int savedLd = ldc;
    c = tile;
    ldc = GEMM_NR;
    e = &local;
    GEMM_STORE(0) GEMM_STORE(1) GEMM_STORE(2) GEMM_STORE(3) GEMM_STORE(4) GEMM_STORE(5)
    c = saved;
    ldc = savedLd;
  }
  for (int r = 0; r < rows; r++)
    for (int q = 0; q < cols; q++) c[(size_t)r * ldc + q] = tile[r * GEMM_NR + q];
}

void gemm_range(const float *a, int ars, int acs, const float *b, int brs, int bcs, float *c, int ldc, int K, int m0, int m1, int n0, int n1,
                const float *bias, int relu, int accumulate, float *ws) {
  float *ap = ws, *bp = ws + GEMM_MC * GEMM_KC;
  if (K == 0) {
    if (accumulate) return;
    for (int i = m0; i < m1; i++)
      for (int j = n0; j < n1; j++) {
        float v = bias ? bias[j] : 0.0f;
        c[(size_t)i * ldc + j] = relu && !(v > 0) && v == v ? 0.0f : v;
      }
    return;
  }
  for (int jc = n0; jc < n1; jc += GEMM_NC) {
    int nc = n1 - jc < GEMM_NC ? n1 - jc : GEMM_NC;
    for (int pc = 0; pc < K; pc += GEMM_KC) {
      int kc = K - pc < GEMM_KC ? K - pc : GEMM_KC;
      int last = pc + kc == K;
      // Few rows: packing B would cost about as much as the products that reuse it, so full
      // column panels of an untransposed B are read in place (row stride brs); only a ragged
      // last panel is packed, zero-padded.
      int full = bcs == 1 && m1 - m0 <= GEMM_DIRECT_B_ROWS ? nc / GEMM_NR * GEMM_NR : 0;
      if (full < nc) pack_b(b, brs, bcs, pc, kc, jc + full, nc - full, bp);
      for (int ic = m0; ic < m1; ic += GEMM_MC) {
        int mc = m1 - ic < GEMM_MC ? m1 - ic : GEMM_MC;
        pack_a(a, ars, acs, ic, mc, pc, kc, ap);
        for (int jr = 0; jr < nc; jr += GEMM_NR) {
          int cols = nc - jr < GEMM_NR ? nc - jr : GEMM_NR;
          Epilogue e = {pc > 0 || accumulate, last && bias ? bias + jc + jr : 0, last && relu};
          for (int ir = 0; ir < mc; ir += GEMM_MR) {
            int rows = mc - ir < GEMM_MR ? mc - ir : GEMM_MR;
            const float *panel = jr < full ? b + (size_t)pc * brs + jc + jr : bp + (jr - full) * kc;
            micro_kernel(kc, ap + ir * kc, panel, jr < full ? brs : GEMM_NR, c + (size_t)(ic + ir) * ldc + jc + jr, ldc, rows, cols, &e);
          }
        }
      }
    }
  }
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }
static int round_up(int a, int b) { return ceil_div(a, b) * b; }

// The nm x nn grid (nm * nn = nt) whose largest cell costs least: its multiply-adds plus the
// packing both of its operands' slices take.
static void gemm_partition(int M, int N, int K, int nt, int *nm, int *nn) {
  double best = -1;
  for (int m = 1; m <= nt; m++) {
    if (nt % m) continue;
    int n = nt / m;
    double rows = round_up(ceil_div(M, m), GEMM_MR), cols = round_up(ceil_div(N, n), GEMM_NR);
    double cost = rows * cols * (double)K + (rows + cols) * (double)K * 4.0;
    if (best < 0 || cost < best) {
      best = cost;
      *nm = m;
      *nn = n;
    }
  }
}

// Row or column range `part` of `parts` over `size`, in whole multiples of `unit`.
static void split(int size, int unit, int parts, int part, int *from, int *to) {
  int units = ceil_div(size, unit);
  int a = (int)((long long)units * part / parts) * unit, b = (int)((long long)units * (part + 1) / parts) * unit;
  *from = a < size ? a : size;
  *to = b < size ? b : size;
}

/**
 * C[t] = act(op(A[t]) · op(B[t]) + bias) for t < batch; A [batch, M, K] (or [batch, K, M] with
 * transA), B [batch, K, N] (or [batch, N, K] with transB), C [batch, M, N]; bias [N] or 0.
 * `next` is a tile counter the caller zeroes before the call (Note [WASM SGEMM]).
 */
EXPORT(sgemm)
void sgemm(int batch, int M, int N, int K, const float *a, int transA, const float *b, int transB, float *c, const float *bias, int relu, int *next,
           float *ws, int slots, int tid, int nthreads) {
  int nt = nthreads < slots ? nthreads : slots;
  if (tid >= nt) return;
  ws += (size_t)tid * GEMM_WS_FLOATS;
  int ars = transA ? 1 : K, acs = transA ? M : 1;
  int brs = transB ? 1 : N, bcs = transB ? K : 1;
  size_t sa = (size_t)M * K, sb = (size_t)K * N, sc = (size_t)M * N;
  // About GEMM_TILES_PER_THREAD tiles per thread over the whole batch; one thread takes each
  // matrix whole (all its B packing reused across its rows).
  int want = nt == 1 ? 1 : ceil_div(GEMM_TILES_PER_THREAD * nt, batch), nm = 1, nn = 1;
  if (want > 1) gemm_partition(M, N, K, want, &nm, &nn);
  int per = nm * nn;
  int64_t total = (int64_t)batch * per;
  for (;;) {
    // Relaxed: the tiles are disjoint and the pool's end-of-job synchronization publishes them.
    int64_t t = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED);
    if (t >= total) break;
    int mat = (int)(t / per), cell = (int)(t % per), m0, m1, n0, n1;
    split(M, GEMM_MR, nm, cell / nn, &m0, &m1);
    split(N, GEMM_NR, nn, cell % nn, &n0, &n1);
    if (m0 < m1 && n0 < n1)
      gemm_range(a + mat * sa, ars, acs, b + mat * sb, brs, bcs, c + mat * sc, N, K, m0, m1, n0, n1, bias, relu, 0, ws);
  }
}

/** int32 C[t] = op(A[t]) · op(B[t]) with wrapping arithmetic (as native), rows split by thread. */
EXPORT(igemm)
void igemm(int batch, int M, int N, int K, const int32_t *a, int transA, const int32_t *b, int transB, int32_t *c, int tid, int nthreads) {
  int rows = batch * M, r0, r1;
  split(rows, 1, nthreads, tid, &r0, &r1);
  for (int r = r0; r < r1; r++) {
    int t = r / M, i = r % M;
    const int32_t *at = a + (size_t)t * M * K, *bt = b + (size_t)t * K * N;
    uint32_t *y = (uint32_t *)c + (size_t)r * N;
    for (int j = 0; j < N; j++) y[j] = 0;
    for (int p = 0; p < K; p++) {
      uint32_t av = (uint32_t)(transA ? at[(size_t)p * M + i] : at[(size_t)i * K + p]);
      if (transB)
        for (int j = 0; j < N; j++) y[j] += av * (uint32_t)bt[(size_t)j * K + p];
      else
        for (int j = 0; j < N; j++) y[j] += av * (uint32_t)bt[(size_t)p * N + j];
    }
  }
}
