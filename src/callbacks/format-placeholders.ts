import { ValueError } from '../core/errors.js';
import { pythonExponent } from './output.js';

// Note [Filepath placeholders]: Keras fills `filepath` with Python's str.format, so users write
// 'ckpt-{epoch:02d}-{val_loss:.4f}'. This is a small, safe subset of that language: `{name}` or
// `{name:spec}` with a plain identifier (no attribute access, indexing or conversions, nothing
// evaluated), `{{` and `}}` for literal braces, and the format spec
// [[fill]align][sign][0][width][.precision][type] with types d, f, F, e, E, g, G, % or none.

const SPEC = /^(?:(.)?([<>=^]))?([+\- ])?(0)?(\d+)?(?:\.(\d+))?([dfFeEgG%])?$/;

/** Fills `{name:spec}` placeholders in `template` from `values`. */
export function formatPlaceholders(op: string, template: string, values: Record<string, number>): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c === '{' && template[i + 1] === '{') {
      out += '{';
      i += 2;
    } else if (c === '}' && template[i + 1] === '}') {
      out += '}';
      i += 2;
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      if (end < 0) throw new ValueError(`${op}: unclosed '{' at position ${i} in ${JSON.stringify(template)}`);
      out += formatField(op, template, template.slice(i + 1, end), values);
      i = end + 1;
    } else if (c === '}') {
      throw new ValueError(`${op}: single '}' at position ${i} in ${JSON.stringify(template)}; write '}}' for a literal brace`);
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function formatField(op: string, template: string, field: string, values: Record<string, number>): string {
  const colon = field.indexOf(':');
  const name = colon < 0 ? field : field.slice(0, colon);
  const spec = colon < 0 ? '' : field.slice(colon + 1);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new ValueError(`${op}: placeholders must be {name} or {name:format}; received {${field}} in ${JSON.stringify(template)}`);
  }
  if (!Object.hasOwn(values, name)) {
    throw new ValueError(
      `${op}: failed to format ${JSON.stringify(template)}: {${name}} is not in the logs; available: ${Object.keys(values).join(', ')}`,
    );
  }
  const value = values[name];
  const m = SPEC.exec(spec);
  if (!m) throw new ValueError(`${op}: unsupported format spec '${spec}' for {${name}} in ${JSON.stringify(template)}`);
  const [, fill, align, sign = '-', zero, width, precision, type] = m;
  if (type === 'd' && precision !== undefined)
    throw new ValueError(`${op}: precision is not allowed with format 'd' ({${field}} in ${JSON.stringify(template)})`);
  if (type === 'd' && !Number.isInteger(value)) {
    throw new ValueError(`${op}: format 'd' needs an integer, but {${name}} is ${value} in ${JSON.stringify(template)}`);
  }
  const digits = precision === undefined ? undefined : Number(precision);
  let body = formatNumber(Math.abs(value), type, digits);
  const negative = value < 0 || Object.is(value, -0);
  const signText = negative ? '-' : sign === '+' ? '+' : sign === ' ' ? ' ' : '';
  if (Number.isNaN(value)) body = type && /[FEG]/.test(type) ? 'NAN' : 'nan';
  return pad(signText, body, width === undefined ? 0 : Number(width), fill ?? (zero && !align ? '0' : ' '), align ?? (zero ? '=' : '>'));
}

/** A non-negative number in one presentation type (Python's rules). */
function formatNumber(x: number, type: string | undefined, precision: number | undefined): string {
  if (x === Infinity) return type && /[FEG]/.test(type) ? 'INF' : 'inf';
  switch (type) {
    case 'd':
      return String(x);
    case 'f':
    case 'F':
      return x.toFixed(precision ?? 6);
    case '%':
      return `${(x * 100).toFixed(precision ?? 6)}%`;
    case 'e':
    case 'E': {
      const s = pythonExponent(x.toExponential(precision ?? 6));
      return type === 'E' ? s.toUpperCase() : s;
    }
    case 'g':
    case 'G': {
      const s = general(x, precision ?? 6);
      return type === 'G' ? s.toUpperCase() : s;
    }
    default:
      // No type: with a precision Python formats like 'g'; without, like str().
      return precision === undefined ? pythonStr(x) : general(x, precision);
  }
}

/** Python's str() of a number: integers plainly, other values in exponent form outside 1e-4 <= x < 1e16. */
function pythonStr(x: number): string {
  if (Number.isInteger(x) && x < 1e16) return String(x);
  const [mantissa, exp] = x.toExponential().split('e');
  const exponent = Number(exp);
  return exponent >= -4 && exponent < 16 ? String(x) : pythonExponent(`${mantissa}e${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`);
}

/** Python's 'g': `p` significant digits, exponent notation outside 1e-4 <= x < 10^p, no trailing zeros. */
function general(x: number, precision: number): string {
  const p = Math.max(precision, 1);
  if (x === 0) return '0';
  const exponent = Number(x.toExponential(p - 1).split('e')[1]);
  const text = exponent >= -4 && exponent < p ? x.toFixed(p - 1 - exponent) : pythonExponent(x.toExponential(p - 1));
  const [mantissa, exp] = text.split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return exp === undefined ? trimmed : `${trimmed}e${exp}`;
}

function pad(sign: string, body: string, width: number, fill: string, align: string): string {
  const missing = width - sign.length - body.length;
  if (missing <= 0) return sign + body;
  const filler = fill.repeat(missing);
  switch (align) {
    case '<':
      return sign + body + filler;
    case '^': {
      const left = fill.repeat(Math.floor(missing / 2));
      return left + sign + body + fill.repeat(missing - left.length);
    }
    case '=':
      return sign + filler + body;
    default:
      return filler + sign + body;
  }
}
