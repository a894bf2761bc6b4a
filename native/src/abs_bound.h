// Bounds on |value| kept per buffer, and the proof that lets a convolution run its ReLU or relu6
// inside oneDNN.
//
// Note [Activation inside the convolution]
// oneDNN 2.6 applies a relu (alpha 0) or clip(0, 6) post-op with vmaxps/vminps against a
// constant, which turns NaN into 0 (and -0 into +0); st.relu and st.relu6, as the reference
// backend defines them, keep NaN. So conv.cc ran the activation as a pass of its own over the
// output. That pass reads and writes the whole output once more (about 5 % of an imported
// MobileNetV2's time at batch 1) and leaves the next layer reading it from a colder cache. The
// post-op is used instead whenever the output provably holds no NaN, where both agree exactly:
// for a finite v, max(v, +0) is relu(v) with -0 giving +0 (st.relu's v > 0 ? v : 0 too), and
// min(max(v, +0), 6) is relu6(v).
// The proof: let X = max|x|, W = max|w|, B = max|bias| and K = kh·kw·(input channels per
// group), the terms per output. If all three are finite and S = K·X·W + B < FLT_MAX / 2, with
// K <= 2^22, no output can be NaN or infinite, in whatever order the kernel sums: every product
// has |x·w| <= X·W (exact product, then one rounding, cannot overflow since X·W <= S), and each
// rounded partial sum (or FMA) of at most K + 1 terms is within a factor (1 + 2^-24)^(K + 2)
// <= e^0.25 < 1.3 of the sum of the magnitudes it holds, so below 1.3·S < FLT_MAX: no operation
// overflows, and without an infinity no NaN can arise. (Padding adds zeros; only the direct
// kernels run the forward pass, Note [Winograd for 3x3 convolutions], whose input transform
// would need its own bound.) Only then is the primitive with the post-op used; otherwise
// (a NaN or infinity anywhere, or S too large: x ≈ 1e30 and w ≈ 1e30 give products that
// overflow to ±Inf, whose sum may be NaN) the plain primitive and the NaN-keeping pass run as
// before. The post-op
// primitive is also used only when oneDNN picked the same JIT implementation for it as for the
// plain one (the same sums, the activation applied in registers): a reference implementation
// applies relu as v·0 for v <= 0, which keeps -0.
// X, W and B come from a bound cached on each buffer for its stamp (common.h): a stamp changes
// whenever a kernel writes the buffer in place (restamp(), Note [Reordered filters kept] in
// weight_cache.h), so a bound is never read for contents other than those it was found for.
// A filter's and a bias's bound is therefore found once in inference and once per step in
// training (the optimizer restamps them). A missing bound costs a parallel read pass; for x that
// pass is made only when x is no bigger than the output, since a pass over a big input (a 3x3
// convolution with stride 2, a 1x1 one that reduces channels) could cost more than the
// activation pass it saves; a larger x uses the post-op only when its bound is already known.
// Measured with x fresh from another op, medians of 4 alternating runs at 1 / 2 threads (ms,
// keeping the pass against a pass over x, 2026-12-07): 1x1 96->16 channels at 56x56 (x 6 times
// y) 0.10 / 0.08 against 0.13 / 0.095; 3x3 stride 2 32->32 at 56x56 (4 times) 0.11 / 0.08
// against 0.12 / 0.09; 1x1 64->32 at 28x28 batch 8 (twice) 0.19 / 0.13 against 0.22 / 0.14;
// at 1.33 times (1x1 32->24) the pass over x won at 2 threads and lost at 1.
// A fused convolution also leaves a bound on its own output when it is proven finite: 6 after a
// relu6, 1.3·S after a relu. The next layer reading it (in MobileNetV2 a depthwise convolution
// after each relu6 convolution) then needs no pass over its input at all. All 35 ReLU6
// convolutions of an imported MobileNetV2 take the post-op, with bit-identical outputs; at batch
// 1 it ran 4 % faster at 1 thread and 6 % at 2 (the two builds alternating in one process,
// medians of 10 blocks of 20 images, 2026-12-07).
#pragma once

#include <cstdint>

#include "common.h"

namespace strata {

// The largest |v| over b's contents read as float32, +infinity when any is NaN or infinite;
// from the bound cached for b's current stamp, else found by a parallel pass and cached.
float abs_bound(Buffer* b);

// Whether b carries a bound for its current contents.
bool has_abs_bound(const Buffer* b);

// Records `bound` (at least every |v| in b, +infinity when b may hold NaN or infinity) for b's
// current contents.
void remember_abs_bound(Buffer* b, float bound);

// Note [Activation inside the convolution]: whether a convolution over x, w and bias with `k`
// terms per output, writing `y_bytes`, provably gives only finite outputs. When it does,
// *y_bound receives a bound on the outputs' magnitude before the activation.
bool conv_output_is_finite(Buffer* x, Buffer* w, Buffer* bias, int64_t k, size_t y_bytes, float* y_bound);

// Note [Bounds carried through linear layers]
// The rule above skips the pass over a big x only when x's bound is already known. In an
// inverted-residual network (MobileNetV2) every block's expanding 1x1 convolution reads either
// the previous block's projection (a linear 1x1 convolution) or a residual Add of two such
// values, neither of which had a bound: 16 passes over x per image at batch 1, each a parallel
// region and a read of up to 300 KB. So the bound travels through those layers too, without a
// pass of its own: a linear convolution (no activation, direct kernels) whose x, filter and bias
// bounds give S = K·X·W + B < FLT_MAX / 2 records 1.3·S on its output, by the same argument as
// above (x's bound must already be known: finding it would be the very pass this avoids); an
// Add or Sub of float32 tensors whose bounds are both known records (A + B)·(1 + 1e-6) (one
// rounding of at most 2^-24 relative, then the float conversion's), or +infinity when that is not
// finite. Bounds only grow this way (by 1.3 per convolution), which costs nothing: they are used
// only to prove finiteness, far below FLT_MAX.
// After a linear convolution of `k` terms per output over x into y (direct kernels): records a
// bound on y when x's is known and the sums are provably finite (the Note above).
void carry_bound_through_conv(Buffer* x, Buffer* w, Buffer* bias, int64_t k, Buffer* y);
// After y = a + b or a - b in float32: records a bound on y when a's and b's are both known.
void carry_bound_through_add(const Buffer* a, const Buffer* b, Buffer* y);
// A bound on |a ± b| in float32 from bounds `a` and `b` on the operands (the Note above).
inline double sum_bound(double a, double b) { return (a + b) * (1 + 1e-6); }

// Convolutions that ran their activation inside oneDNN, for tests (the addon's memory()).
void count_fused_activation();
int64_t fused_activation_count();

}  // namespace strata
