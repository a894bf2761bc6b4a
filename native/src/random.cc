// Philox4x32-10 random numbers, bit for bit the same stream as src/core/rng.ts `fillRandom`, so a
// seed reproduces across backends: element i uses block (offset + i) of the key's stream.
#include <cmath>
#include <cstdint>

#include "common.h"

namespace strata {
namespace {

void philox(uint32_t c[4], uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; r++) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c[0];
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c[2];
    const uint32_t hi0 = p0 >> 32, lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = p1 >> 32, lo1 = static_cast<uint32_t>(p1);
    const uint32_t n0 = hi1 ^ c[1] ^ k0, n2 = hi0 ^ c[3] ^ k1;
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
}

constexpr double kTwoPowMinus24 = 1.0 / 16777216.0;
inline double u01(uint32_t w) { return (w >> 8) * kTwoPowMinus24; }
inline double u01_open(uint32_t w) { return ((w >> 8) + 1) * kTwoPowMinus24; }
inline double box_muller(uint32_t w0, uint32_t w1) {
  return std::sqrt(-2.0 * std::log(u01_open(w0))) * std::cos(2.0 * M_PI * u01(w1));
}

}  // namespace

// random: uniform in [a, b), normal(mean a, stddev b), truncated normal (redrawn beyond two
// standard deviations), or bernoulli(p = a). float32 out.
Napi::Value calls::random(Napi::Env env, const RandomArgs& args) {
  const int64_t n = args.n;
  const uint32_t k0 = args.k0, k1 = args.k1;
  const double offset = args.offset;
  const Distribution kind = args.distribution;
  const double a = args.a, b = args.b;
  Buffer* yb;
  Napi::Value out = new_buffer(env, n * 4, &yb);
  float* y = static_cast<float*>(yb->data);
  const uint64_t base = static_cast<uint64_t>(offset);
#pragma omp parallel for if (n > (1 << 14))
  for (int64_t i = 0; i < n; i++) {
    const uint64_t block = base + static_cast<uint64_t>(i);
    const uint32_t lo = static_cast<uint32_t>(block), hi = static_cast<uint32_t>(block >> 32);
    uint32_t c[4] = {lo, hi, 0, 0};
    philox(c, k0, k1);
    double v = 0;
    switch (kind) {
      case Distribution::kUniform: v = a + (b - a) * u01(c[0]); break;
      case Distribution::kBernoulli: v = u01(c[0]) < a ? 1 : 0; break;
      case Distribution::kNormal: v = a + b * box_muller(c[0], c[1]); break;
      case Distribution::kTruncatedNormal: {
        double z = box_muller(c[0], c[1]);
        if (std::fabs(z) > 2) z = box_muller(c[2], c[3]);
        for (uint32_t attempt = 1; std::fabs(z) > 2; attempt++) {
          uint32_t r[4] = {lo, hi, attempt, 0};
          philox(r, k0, k1);
          z = box_muller(r[0], r[1]);
        }
        v = a + b * z;
        break;
      }
    }
    y[i] = static_cast<float>(v);
  }
  return out;
}

}  // namespace strata
