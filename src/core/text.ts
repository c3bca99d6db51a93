// Strings that come from files (layer names, op types, class names, data headers) are
// untrusted: a crafted one could span lines or carry terminal escape codes into a message.

/** Characters that must never reach a terminal raw: C0/C1 controls, DEL, bidi overrides, line separators. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/gu;

/**
 * `text` made safe to print on one line: control characters escaped (`\n`, `\x1b`, `\u202e`),
 * cut to `max` characters with an ellipsis. Use it on every file-supplied string in a message.
 */
export function printable(text: unknown, max = 80): string {
  const s = String(text);
  const cut = [...s].length > max ? `${[...s].slice(0, max).join('')}…` : s;
  return cut.replace(UNPRINTABLE, escapeChar);
}

/** `printable(text)` in single quotes, the way messages name a layer or key. */
export function quoted(text: unknown, max = 80): string {
  return `'${printable(text, max)}'`;
}

/** A whole message forced onto one printable line (the last line of defence before printing). */
export function oneLine(message: string, max = 2000): string {
  return printable(message.replace(/\r?\n\s*/g, ' '), max);
}

function escapeChar(c: string): string {
  const code = c.codePointAt(0)!;
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
