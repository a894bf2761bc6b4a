// Text helpers shared by the SVG and HTML writers.

/** Escapes the five characters that are special in XML/HTML text and attribute values. */
export function escapeXml(text: string): string {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

// Approximate advance widths of DejaVu Sans in em, by character class. Only used to size cells and
// wrap captions, so erring a little wide is fine (the estimate sits slightly above the real font).
const NARROW = new Set("iljtfrI!|.,:;'()[] /");
const WIDE = new Set('mwMW@%→');

/** Estimated rendered width in pixels of `text` at `fontSize` in DejaVu Sans. */
export function textWidth(text: string, fontSize: number): number {
  let em = 0;
  for (const ch of text) {
    if (NARROW.has(ch)) em += 0.36;
    else if (WIDE.has(ch)) em += 0.92;
    else if (ch >= 'A' && ch <= 'Z') em += 0.72;
    else em += 0.62;
  }
  return em * fontSize;
}

/**
 * Greedy word wrap to `maxWidth` pixels; a word longer than a line is cut by characters so no
 * line overflows. Explicit newlines are kept.
 */
export function wrapText(text: string, maxWidth: number, fontSize: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter((w) => w.length > 0)) {
      const candidate = line ? `${line} ${word}` : word;
      if (textWidth(candidate, fontSize) <= maxWidth) {
        line = candidate;
        continue;
      }
      if (line) lines.push(line);
      line = '';
      let rest = word;
      while (textWidth(rest, fontSize) > maxWidth && rest.length > 1) {
        let cut = rest.length - 1;
        while (cut > 1 && textWidth(rest.slice(0, cut), fontSize) > maxWidth) cut--;
        lines.push(rest.slice(0, cut));
        rest = rest.slice(cut);
      }
      line = rest;
    }
    lines.push(line);
  }
  return lines;
}
