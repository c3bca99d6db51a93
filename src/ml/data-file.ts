// Users' own labelled data for importance and evaluation (docs/DATA.md):
// - CSV: one sample per line, the features then the integer label last; an optional
//   header line (any non-numeric first line) is skipped.
// - JSON: { "x": [[f, f, …], …], "y": [label, …] }.
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { InputError } from '../core/errors.ts';
import type { Dataset } from './data.ts';

export function loadDataFile(path: string, classes: number): Dataset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InputError(`${path}: file not found or unreadable`);
  }
  const ext = extname(path).toLowerCase();
  const rows = ext === '.json' ? parseJson(text, path) : ext === '.csv' ? parseCsv(text, path) : null;
  if (!rows) throw new InputError(`${path}: unsupported data format '${ext}'; use .csv (features…, label) or .json ({"x": [[…]], "y": […]})`);
  if (rows.x.length === 0) throw new InputError(`${path}: no samples`);
  const features = rows.x[0].length;
  const x = new Float32Array(rows.x.length * features);
  const y = new Int32Array(rows.x.length);
  rows.x.forEach((row, i) => {
    if (row.length !== features) throw new InputError(`${path}: sample ${i} has ${row.length} features, the first has ${features}`);
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new InputError(`${path}: feature ${j} of sample ${i} is not a finite number`);
      x[i * features + j] = v;
    });
    const label = rows.y[i] as number;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new InputError(`${path}: sample ${i} has label ${JSON.stringify(label)}; allowed: integers 0–${classes - 1}`);
    }
    y[i] = label;
  });
  return { x, y, count: rows.x.length, features, classes };
}

function parseJson(text: string, path: string): { x: unknown[][]; y: unknown[] } {
  let doc: { x?: unknown; y?: unknown };
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(doc.x) || !Array.isArray(doc.y) || !doc.x.every(Array.isArray)) {
    throw new InputError(`${path}: expected {"x": [[features…], …], "y": [labels…]}`);
  }
  if (doc.x.length !== doc.y.length) throw new InputError(`${path}: ${doc.x.length} samples in x but ${doc.y.length} labels in y`);
  return { x: doc.x as unknown[][], y: doc.y };
}

function parseCsv(text: string, path: string): { x: number[][]; y: number[] } {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length > 0 && lines[0].split(',').some((c) => c.trim() === '' || Number.isNaN(Number(c)))) lines.shift();
  const x: number[][] = [];
  const y: number[] = [];
  lines.forEach((line, i) => {
    const cells = line.split(',').map((c) => Number(c.trim()));
    if (cells.length < 2) throw new InputError(`${path}: line ${i + 1} needs at least one feature and a label`);
    x.push(cells.slice(0, -1));
    y.push(cells[cells.length - 1]);
  });
  return { x, y };
}
