// JSON from files, parsed only after a linear scan has bounded its nesting. JSON.parse itself
// copes with deep input, but everything after it (config deserializers, JSON.stringify of an
// error excerpt, structural walks) recurses once per level, and a few kilobytes of `[[[[...` then
// end in a RangeError from deep inside, naming neither the file nor the cause (Note [Trust no size]).

import { FormatError } from '../core/errors.js';
import { getReadLimits } from '../core/limits.js';

const OPEN_BRACE = 0x7b,
  OPEN_BRACKET = 0x5b,
  CLOSE_BRACE = 0x7d,
  CLOSE_BRACKET = 0x5d,
  QUOTE = 0x22,
  BACKSLASH = 0x5c,
  NEWLINE = 0x0a;

/**
 * The first place where arrays and objects nest deeper than `limit`, as a 1-based line, or null.
 * Brackets inside strings do not count; the scan does not validate (JSON.parse does that next).
 */
function firstTooDeep(bytes: Uint8Array, limit: number): number | null {
  let depth = 0,
    line = 1,
    inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === NEWLINE) line++;
    if (inString) {
      if (c === BACKSLASH)
        i++; // the escaped character cannot end the string
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return line;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return null;
}

/** Refuses JSON bytes whose arrays and objects nest deeper than `getReadLimits().maxJsonDepth`. */
export function checkJsonDepth(bytes: Uint8Array, file: string, what = ''): void {
  const limit = getReadLimits().maxJsonDepth;
  const line = firstTooDeep(bytes, limit);
  if (line !== null) {
    throw new FormatError(
      `${file}: ${what}line ${line}: arrays and objects nest deeper than the limit of ${limit} levels (maxJsonDepth); raise it with st.setReadLimits({maxJsonDepth}) if the file is trusted`,
    );
  }
}

/**
 * Parses UTF-8 JSON bytes from `file`, refusing nesting deeper than `getReadLimits().maxJsonDepth`
 * and invalid UTF-8 or JSON with a FormatError that names the file.
 */
export function parseJsonFile(bytes: Uint8Array, file: string): unknown {
  checkJsonDepth(bytes, file);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new FormatError(`${file}: not valid UTF-8 text`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FormatError(`${file}: not valid JSON (${(e as Error).message})`);
  }
}
