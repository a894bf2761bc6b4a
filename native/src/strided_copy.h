// The copy behind every transpose, broadcast and slice of the native backend (calls::strided in
// movement.cc): out[o] = x[offset(o)] through per-axis strides, with fast paths for contiguous
// runs and for transposes (Note [Strided copy paths] in strided_copy.cc).
#pragma once

#include <cstddef>
#include <cstdint>

#include "common.h"

namespace strata {

// Writes the row-major output of shape `shape` to `y`, element o read from
// x[sum_i index_i(o) * strides[i]]; strides and offsets count elements of `width` bytes (any
// width; 1, 2, 4 and 8 take the fast paths). Strides may be 0 (broadcast).
void strided_copy(const void* x, void* y, const Shape& shape, const Shape& strides, size_t width);

}  // namespace strata
