// Users' own labelled data for importance and evaluation (docs/DATA.md):
// - CSV: one sample per line, the features then the integer label last; an optional
//   header line (any non-numeric first line) is skipped.
// - JSON: { "x": [[f, f, …], …], "y": [label, …] }.
// - NumPy: .npz with arrays x [samples, features…] and y [samples] (np.savez), or .npy of x alone
//   (features only); any integer, float or bool dtype, either byte order, C or Fortran order.
// `nnvis predict` reads features only: there a CSV line of exactly the model's feature count has
// no label, and JSON's "y" and npz's y may be left out.
// The file is untrusted: it must be a regular file of at most MAX_DATA_BYTES; every feature a
// finite number within float32 range (CSV cells are plain decimal numbers, nothing else), every row as long as the
// first, every label an integer in 0 … classes − 1. Each problem is one InputError naming the
// file and the sample (and CSV line); strings from the file pass through printable().
import { InputError } from '../core/errors.ts';
import { printable, quoted } from '../core/text.ts';
import type { Dataset } from './data.ts';
import { jsonText, readModelFile } from './import/common.ts';
import { extractZipEntry, readZipEntries } from './import/zip.ts';
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

/** Without labels (`nnvis predict`): y is −1 where the file gives none. */
export interface LabelOptions {
  /** The model's feature count: a CSV line of exactly this many values has no label. */
  features: number;
}

export function loadDataFile(path: string, classes: number, unlabelled?: LabelOptions): Dataset {
  const shown = printable(path, 1000);
  const ext = extname(path).toLowerCase();
  if (!['.json', '.csv', '.npy', '.npz'].includes(ext)) {
    throw new InputError(`${shown}: unsupported data format '${printable(ext, 20)}'; use .csv (features…, label), .json ({"x": [[…]], "y": […]}) or NumPy .npz (arrays x and y)${unlabelled ? ' or .npy (x)' : ''}`);
  }
  const bytes = readModelFile(path, MAX_DATA_BYTES, path, 'data file');
  let rows: Rows;
  if (ext === '.npy' || ext === '.npz') rows = readNumpy(bytes, ext, shown, classes, unlabelled !== undefined);
  else {
    let text = bytes.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    rows = ext === '.json' ? parseJson(text, shown, classes, unlabelled !== undefined) : parseCsv(text, shown, classes, unlabelled?.features);
  }
  const count = rows.y.length;
  if (count === 0) throw new InputError(`${shown}: no samples`);
  return { x: rows.x.slice(0, count * rows.features), y: Int32Array.from(rows.y), count, features: rows.features, classes };
}

interface NpyArray {
  shape: number[];
  values: Float64Array;
}

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** One .npy array (NumPy's format: magic, version, a Python-literal header dict, raw data). */
function parseNpy(buf: Buffer, shown: string): NpyArray {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(NPY_MAGIC)) throw new InputError(`${shown}: is not a NumPy .npy array (no \x93NUMPY magic)`);
  const major = buf[6];
  if (major < 1 || major > 3) throw new InputError(`${shown}: NumPy format version ${major}.${buf[7]} is not supported (1.0 – 3.0)`);
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > buf.length) throw new InputError(`${shown}: NumPy header is truncated`);
  const header = buf.subarray(start, start + headerLen).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new InputError(`${shown}: NumPy header ${quoted(header.trim(), 80)} lacks descr, fortran_order or shape`);
  const shape = shapeText.split(',').map((d) => d.trim()).filter((d) => d !== '').map(Number);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new InputError(`${shown}: NumPy shape (${printable(shapeText, 40)}) is not a list of sizes`);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  const size = m ? Number(m[3]) : 0;
  const readers: Record<string, ((v: DataView, at: number, le: boolean) => number) | undefined> = {
    f4: (v, at, le) => v.getFloat32(at, le),
    f8: (v, at, le) => v.getFloat64(at, le),
    i1: (v, at) => v.getInt8(at),
    i2: (v, at, le) => v.getInt16(at, le),
    i4: (v, at, le) => v.getInt32(at, le),
    i8: (v, at, le) => Number(v.getBigInt64(at, le)),
    u1: (v, at) => v.getUint8(at),
    u2: (v, at, le) => v.getUint16(at, le),
    u4: (v, at, le) => v.getUint32(at, le),
    u8: (v, at, le) => Number(v.getBigUint64(at, le)),
    b1: (v, at) => v.getUint8(at),
  };
  const read = m ? readers[`${m[2]}${m[3]}`] : undefined;
  if (!m || !read) throw new InputError(`${shown}: NumPy dtype ${quoted(descr, 20)} is not supported; use a float, integer or bool array`);
  const n = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  if (buf.length - dataStart !== n * size) throw new InputError(`${shown}: NumPy array of shape (${shape.join(', ')}) needs ${n * size} bytes of data, the file has ${buf.length - dataStart}`);
  const view = new DataView(buf.buffer, buf.byteOffset + dataStart, n * size);
  const le = m[1] !== '>';
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = read(view, i * size, le);
  if (fortran === 'True' && shape.length > 1) {
    // Fortran order: the first index runs fastest; rows come back C-ordered
    const rows = shape[0];
    const cols = n / Math.max(rows, 1);
    const c = new Float64Array(n);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) c[r * cols + j] = values[j * rows + r];
    return { shape, values: c };
  }
  return { shape, values };
}

function readNumpy(bytes: Buffer, ext: string, shown: string, classes: number, unlabelled: boolean): Rows {
  let x: NpyArray;
  let y: NpyArray | undefined;
  if (ext === '.npy') {
    if (!unlabelled) throw new InputError(`${shown}: a .npy file holds one array (the features); give labelled data as .npz with arrays x and y (np.savez(file, x=x, y=y))`);
    x = parseNpy(bytes, shown);
  } else {
    const entries = readZipEntries(shown, bytes);
    const array = (name: string): NpyArray | undefined => {
      const e = entries.find((en) => en.name === `${name}.npy`);
      return e ? parseNpy(extractZipEntry(shown, bytes, e, MAX_DATA_BYTES), `${shown} (${name}.npy)`) : undefined;
    };
    const found = array('x');
    if (!found) throw new InputError(`${shown}: has no array x (holds ${entries.slice(0, 5).map((e) => quoted(e.name, 30)).join(', ') || 'nothing'}); save it with np.savez(file, x=features, y=labels)`);
    x = found;
    y = array('y');
    if (!y && !unlabelled) throw new InputError(`${shown}: has no array y (the labels); save it with np.savez(file, x=features, y=labels)`);
  }
  if (x.shape.length < 2) throw new InputError(`${shown}: x has shape (${x.shape.join(', ')}); expected (samples, features…)`);
  const count = x.shape[0];
  const features = x.shape.slice(1).reduce((a, b) => a * b, 1);
  if (features === 0) throw new InputError(`${shown}: x has no features`);
  if (y && (y.shape.length !== 1 || y.shape[0] !== count)) throw new InputError(`${shown}: y has shape (${y.shape.join(', ')}) but x has ${count} samples; expected (${count},)`);
  const rows = new Rows();
  rows.features = features;
  for (let i = 0; i < count; i++) {
    const sample = x.values.subarray(i * features, (i + 1) * features);
    sample.forEach((v, j) => {
      if (!Number.isFinite(v)) throw new InputError(`${shown}: feature ${j} of sample ${i} is not a finite number (${v})`);
      if (Math.abs(v) > FLOAT32_MAX) throw new InputError(`${shown}: feature ${j} of sample ${i} is ${v}, beyond the float32 range (±${FLOAT32_MAX.toPrecision(4)})`);
    });
    const label = y ? y.values[i] : -1;
    if (y && (!Number.isInteger(label) || label < 0 || label >= classes)) throw labelError(shown, `sample ${i}`, String(label), classes);
    rows.push(sample, label);
  }
  return rows;
}

function labelError(shown: string, where: string, value: string, classes: number): InputError {
  return new InputError(`${shown}: ${where} has label ${value}; allowed: integers 0–${classes - 1}`);
}

function parseCsv(text: string, shown: string, classes: number, unlabelledFeatures?: number): Rows {
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
    if (columns < 0 && unlabelledFeatures !== undefined && cells.length !== unlabelledFeatures && cells.length !== unlabelledFeatures + 1) {
      throw new InputError(`${shown}: samples have ${cells.length} values (line ${lineNo}), but the model takes ${unlabelledFeatures} features (optionally then a label)`);
    }
    if (columns < 0 && cells.length === unlabelledFeatures) {
      columns = cells.length + 1; // features only: the missing label column
      rows.features = cells.length;
      values = new Float64Array(cells.length);
    } else if (columns < 0) {
      if (cells.length < 2) throw new InputError(`${shown}: line ${lineNo} has ${cells.length} value; each line needs at least one feature and then the label`);
      columns = cells.length;
      rows.features = columns - 1;
      values = new Float64Array(columns - 1);
    } else if (cells.length !== columns && !(unlabelledFeatures !== undefined && cells.length === rows.features && rows.features === unlabelledFeatures)) {
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
    if (cells.length === rows.features) {
      rows.push(values, -1);
      continue;
    }
    const last = cells[columns - 1];
    const label = NUMBER.test(last) ? Number(last) : Number.NaN;
    if (!Number.isInteger(label) || label < 0 || label >= classes) throw labelError(shown, where, last === '' ? '(empty)' : printable(last, 40), classes);
    rows.push(values, label);
  }
  return rows;
}

function parseJson(text: string, shown: string, classes: number, unlabelled = false): Rows {
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
  const { x } = doc as { x?: unknown };
  const y = unlabelled && !('y' in doc) && Array.isArray(x) ? x.map(() => -1) : (doc as { y?: unknown }).y;
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
    if (label === -1 && unlabelled && !('y' in doc)) {
      rows.push(row as number[], -1);
      return;
    }
    if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= classes) {
      throw labelError(shown, `sample ${i}`, jsonText(label, 40), classes);
    }
    rows.push(row as number[], label);
  });
  return rows;
}
