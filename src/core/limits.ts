// Ceilings for what a reader may allocate on the word of a file. A file's header can declare
// any size; where the file's own byte count backs the declaration (a safetensors tensor, an
// uncompressed IDX body), the readers check the two agree. Where it cannot (compressed data:
// gzip, PNG, JPEG; nesting in JSON; the length of a CSV line that has not ended yet), these
// ceilings decide, before anything is allocated, and a file past one is refused with a
// FormatError naming the file, the field and the limit (Note [Trust no size]).
//
// Note [Trust no size]
// The defaults keep a file of under 1 MB from making Strata allocate more than about 256 MB
// (the hostile corpus in test/hostile/ checks this): gzip and deflate expand up to ~1000x, so a
// 300 KB PNG can honestly declare 50000 x 50000 pixels. Pillow refuses images above ~89 M
// pixels by default; we stop at 2^24 (4096 x 4096) because an image is decoded to RGBA bytes and
// then converted to float32, about 16 bytes per pixel at the peak. Real data sets that need more
// raise the ceiling with st.setReadLimits; nothing is silently truncated.

import { ValueError } from './errors.js';

/**
 * Ceilings on what Strata's file readers allocate on a file's word (compressed sizes, image
 * dimensions, JSON nesting, CSV lines); a file past one is refused with a FormatError naming the
 * file and the limit. Set with {@link setReadLimits}.
 */
export interface ReadLimits {
  /** The most bytes a reader may inflate from compressed input (gzip IDX files, PNG/JPEG pixel buffers). Default 256 MiB. */
  maxDecodedBytes: number;
  /** The most pixels (width x height) an image file may declare. Default 2^24 (4096 x 4096). */
  maxImagePixels: number;
  /** The deepest nesting of arrays and objects a JSON file (model.json, checkpoints) may have. Default 128. */
  maxJsonDepth: number;
  /** The longest line (in bytes, quotes included) a CSV file may have. Default 16 MiB. */
  maxCsvLineBytes: number;
}

const DEFAULTS: Readonly<ReadLimits> = Object.freeze({
  maxDecodedBytes: 256 * 1024 * 1024,
  maxImagePixels: 1 << 24,
  maxJsonDepth: 128,
  maxCsvLineBytes: 16 * 1024 * 1024,
});

let current: ReadLimits = { ...DEFAULTS };

/** The ceilings in force (a copy). */
export function getReadLimits(): ReadLimits {
  return { ...current };
}

/**
 * Changes some ceilings (the others keep their values); `st.setReadLimits('defaults')` restores
 * all. Each must be a positive integer. Returns the previous limits, so a caller can restore them.
 */
export function setReadLimits(limits: Partial<ReadLimits> | 'defaults'): ReadLimits {
  const previous = getReadLimits();
  if (limits === 'defaults') {
    current = { ...DEFAULTS };
    return previous;
  }
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
    throw new ValueError(
      `setReadLimits: expected an object with some of ${Object.keys(DEFAULTS).join(', ')}, or 'defaults'; received ${JSON.stringify(limits)}`,
    );
  }
  const next = { ...current };
  for (const [key, value] of Object.entries(limits)) {
    if (!Object.hasOwn(DEFAULTS, key)) {
      throw new ValueError(`setReadLimits: unknown limit '${key}'; expected one of ${Object.keys(DEFAULTS).join(', ')}`);
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new ValueError(`setReadLimits: ${key} must be a positive integer; received ${String(value)}`);
    }
    next[key as keyof ReadLimits] = value;
  }
  current = next;
  return previous;
}
