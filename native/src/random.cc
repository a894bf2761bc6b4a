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

enum Kind { kUniform = 0, kNormal = 1, kTruncatedNormal = 2, kBernoulli = 3 };

// random(n, key0, key1, offset, kind, a, b): uniform in [a, b), normal(mean a, stddev b),
// truncated normal (redrawn beyond two standard deviations), or bernoulli(p = a). float32 out.
Napi::Value Random(const Napi::CallbackInfo& info) {
  const int64_t n = info[0].As<Napi::Number>().Int64Value();
  const uint32_t k0 = info[1].As<Napi::Number>().Uint32Value(), k1 = info[2].As<Napi::Number>().Uint32Value();
  const double offset = info[3].As<Napi::Number>().DoubleValue();
  const int kind = info[4].As<Napi::Number>().Int32Value();
  const double a = info[5].As<Napi::Number>().DoubleValue(), b = info[6].As<Napi::Number>().DoubleValue();
  Buffer* yb;
  Napi::Value out = new_buffer(info.Env(), n * 4, &yb);
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
      case kUniform: v = a + (b - a) * u01(c[0]); break;
      case kBernoulli: v = u01(c[0]) < a ? 1 : 0; break;
      case kNormal: v = a + b * box_muller(c[0], c[1]); break;
      case kTruncatedNormal: {
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

}  // namespace

void init_random(Napi::Env env, Napi::Object exports) { exports.Set("random", Napi::Function::New(env, Random)); }

}  // namespace strata
