// 16-bit floats (IEEE half and bfloat16) widened to float32. Both widenings are exact, so a
// PyTorch state dict saved in half precision loads without any further rounding.

/** IEEE 754 half precision bits as a number (subnormals, infinities and NaN included). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Little-endian F16 or BF16 values as float32 (bfloat16 is the top half of a float32's bits). */
export function widenHalfFloats(bytes: Uint8Array, dtype: 'F16' | 'BF16'): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = bytes.byteLength / 2;
  const out = new Float32Array(n);
  if (dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = view.getUint16(i * 2, true) << 16;
  } else {
    for (let i = 0; i < n; i++) out[i] = halfToNumber(view.getUint16(i * 2, true));
  }
  return out;
}
