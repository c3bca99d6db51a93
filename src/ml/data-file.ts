// Users' own labelled data for importance and evaluation (docs/DATA.md):
// - CSV: one sample per line, the features then the integer label last; an optional
//   header line (any non-numeric first line) is skipped.
// - JSON: { "x": [[f, f, …], …], "y": [label, …] }.
// The file is untrusted: it must be a regular file of at most MAX_DATA_BYTES; every feature a
// finite number within float32 range (CSV cells are plain decimal numbers, nothing else), every row as long as the
// first, every label an integer in 0 … classes − 1. Each problem is one InputError naming the
// file and the sample (and CSV line); strings from the file pass through printable().
import { InputError } from '../core/errors.ts';
import { printable, quoted } from '../core/text.ts';
import type { Dataset } from './data.ts';
import { jsonText, readModelFile } from './import/common.ts';
import { extname } from 'node:path';

/** Largest --data file read (bytes). */
export const MAX_DATA_BYTES = 256 * 1024 * 1024;

/** Largest float32; features are stored as float32, so larger finite numbers would become Infinity. */
const FLOAT32_MAX = 3.4028234663852886e38;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

/** Growable row-major feature storage, so big files never become arrays of arrays. */
class Rows {
  x = new Float32Array(1024);
  y: number[] = [];
  features = -1;

  push(values: ArrayLike<number>, label: number): void {
    const at = this.y.length * this.features;
    if (at + values.length > this.x.length) {
      const grown = new Float32Array(Math.max(this.x.length * 2, at + values.length));
      grown.set(this.x);
      this.x = grown;
    }
    for (let j = 0; j < values.length; j++) this.x[at + j] = values[j];
    this.y.push(label);
  }
}

export function loadDataFile(path: string, classes: number): Dataset {
  const shown = printable(path, 1000);
  const ext = extname(path).toLowerCase();
  if (ext !== '.json' && ext !== '.csv') {
    throw new InputError(`${shown}: unsupported data format '${printable(ext, 20)}'; use .csv (features…, label) or .json ({"x": [[…]], "y": […]})`);
  }
  let text = readModelFile(path, MAX_DATA_BYTES, path, 'data file').toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows = ext === '.json' ? parseJson(text, shown, classes) : parseCsv(text, shown, classes);
  const count = rows.y.length;
  if (count === 0) throw new InputError(`${shown}: no samples`);
  return { x: rows.x.slice(0, count * rows.features), y: Int32Array.from(rows.y), count, features: rows.features, classes };
}

function labelError(shown: string, where: string, value: string, classes: number): InputError {
  return new InputError(`${shown}: ${where} has label ${value}; allowed: integers 0–${classes - 1}`);
}

function parseCsv(text: string, shown: string, classes: number): Rows {
  const rows = new Rows();
  const lines = text.split('\n');
  let header = false;
  let columns = -1;
  let values = new Float64Array(0);
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l].endsWith('\r') ? lines[l].slice(0, -1) : lines[l];
    if (line.trim() === '') continue;
    const cells = line.split(',').map((c) => c.trim());
    const lineNo = l + 1;
    if (columns < 0 && !header && cells.some((c) => c !== '' && !NUMBER.test(c) && !NON_FINITE.test(c))) {
      header = true; // skipped, as docs/DATA.md says; the rows alone say how many features there are
      continue;
    }
    const sample = rows.y.length;
    const where = `sample ${sample} (line ${lineNo})`;
    if (columns < 0) {
      if (cells.length < 2) throw new InputError(`${shown}: line ${lineNo} has ${cells.length} value; each line needs at least one feature and then the label`);
      columns = cells.length;
      rows.features = columns - 1;
      values = new Float64Array(columns - 1);
    } else if (cells.length !== columns) {
      throw new InputError(`${shown}: ${where} has ${cells.length - 1} features, the first has ${columns - 1} (every line: the features, then the label)`);
    }
    for (let j = 0; j < columns - 1; j++) {
      const c = cells[j];
      const v = NUMBER.test(c) ? Number(c) : Number.NaN;
      if (!Number.isFinite(v)) {
        throw new InputError(`${shown}: feature ${j} of ${where} is not a finite number (${c === '' ? 'empty' : quoted(c, 40)})`);
      }
      if (Math.abs(v) > FLOAT32_MAX) throw new InputError(`${shown}: feature ${j} of ${where} is ${quoted(c, 40)}, beyond the float32 range (±${FLOAT32_MAX.toPrecision(4)})`);
      values[j] = v;
    }
    const last = cells[columns - 1];
    const label = NUMBER.test(last) ? Number(last) : Number.NaN;
    if (!Number.isInteger(label) || label < 0 || label >= classes) throw labelError(shown, where, last === '' ? '(empty)' : printable(last, 40), classes);
    rows.push(values, label);
  }
  return rows;
}

function parseJson(text: string, shown: string, classes: number): Rows {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${shown}: not valid JSON (${printable((err as Error).message, 120)})`);
  }
  const expected = 'expected {"x": [[features…], …], "y": [labels…]}';
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InputError(`${shown}: ${expected}, got ${Array.isArray(doc) ? 'a list' : doc === null ? 'null' : `a ${typeof doc}`}`);
  }
  const { x, y } = doc as { x?: unknown; y?: unknown };
  if (!Array.isArray(x) || !Array.isArray(y)) {
    const notList = (['x', 'y'] as const).find((k) => k in doc && !Array.isArray((doc as Record<string, unknown>)[k]));
    if (notList) throw new InputError(`${shown}: "${notList}" is ${jsonText((doc as Record<string, unknown>)[notList], 40)}, not a list; ${expected}`);
    const keys = Object.keys(doc);
    const found = keys.length === 0 ? 'no keys' : `keys ${keys.slice(0, 5).map((k) => quoted(k, 30)).join(', ')}${keys.length > 5 ? ', …' : ''}`;
    throw new InputError(`${shown}: ${expected}; found ${found}`);
  }
  if (x.length !== y.length) throw new InputError(`${shown}: ${x.length} samples in x but ${y.length} labels in y`);
  const rows = new Rows();
  x.forEach((row, i) => {
    if (!Array.isArray(row)) throw new InputError(`${shown}: x[${i}] is not a list of features`);
    if (i === 0) {
      if (row.length === 0) throw new InputError(`${shown}: x[0] has no features`);
      rows.features = row.length;
    } else if (row.length !== rows.features) {
      throw new InputError(`${shown}: sample ${i} has ${row.length} features, the first has ${rows.features}`);
    }
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new InputError(`${shown}: feature ${j} of sample ${i} is not a finite number (${jsonText(v, 40)})`);
      }
      if (Math.abs(v) > FLOAT32_MAX) throw new InputError(`${shown}: feature ${j} of sample ${i} is ${v}, beyond the float32 range (±${FLOAT32_MAX.toPrecision(4)})`);
    });
    const label = y[i];
    if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= classes) {
      throw labelError(shown, `sample ${i}`, jsonText(label, 40), classes);
    }
    rows.push(row as number[], label);
  });
  return rows;
}
