// HDF5 reading for the Keras importers, in a worker thread (started by h5.ts).
//
// HDF5 is C compiled to WebAssembly. On a corrupt file it can trap (memory access out of
// bounds), after which that WebAssembly instance stays broken, and crafted files could make it
// loop. In a worker, a trap or a hang costs only this thread: the main thread terminates it and
// starts a fresh one for the next file. The file lives in h5wasm's in-memory file system (the
// ESM build, not h5wasm/node with its direct disk access), so nothing is written to disk, and
// external links or external raw-data files named inside the HDF5 cannot reach real files.
//
// Plain JavaScript so the worker starts without the TypeScript loader.
//
// Protocol (one request at a time, one open file at a time):
//   { op: 'open', bytes: Uint8Array, limits } → { ok: true, tree }   tree: see H5Node in h5.ts
//   { op: 'read', paths: string[], maxValues } → { ok: true, values: (Float32Array | Float64Array)[] }
//   { op: 'close' }                            → { ok: true }
//   any failure                                → { ok: false, stage, message, trap }

import { Buffer } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import h5wasm from 'h5wasm';

/** A WebAssembly trap (or emscripten abort): this instance is unusable from then on. */
const { RuntimeError } = globalThis.WebAssembly;

const PATH = '/model.h5';
const H5T_FLOAT = 1;
const H5T_STRING = 3;
const TYPE_NAMES = ['integer', 'float', 'time', 'string', 'bitfield', 'opaque', 'compound', 'reference', 'enum', 'vlen', 'array'];

const Module = await h5wasm.ready;
// Without this, HDF5 prints diagnostics to stderr and some failures return bad ids silently.
Module.activate_throwing_error_handler();

/** @type {import('h5wasm').File | null} */
let file = null;
let poisoned = false;

class Limit extends Error {}

function closeFile() {
  if (file) {
    try {
      file.close();
    } catch {
      // closing a corrupt file may fail too; nothing left to release
    }
    file = null;
  }
  try {
    Module.FS.unlink(PATH);
  } catch {
    // not there
  }
}

function typeName(t) {
  return TYPE_NAMES[t] ?? `type ${t}`;
}

/** h5py writes bytes as fixed-length NULLPAD strings: turn every element into a string. */
function toStrings(v) {
  const one = (x) => (x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : String(x)).replace(/\0+$/, '');
  if (typeof v === 'string' || v instanceof Uint8Array) return [one(v)];
  if (Array.isArray(v)) return v.map(one);
  return null;
}

function readAttrs(g, limits, budget) {
  const out = [];
  const attrs = g.attrs;
  for (const name of Object.keys(attrs)) {
    if (out.length >= limits.maxAttrs) throw new Limit(`object ${g.path} has more than ${limits.maxAttrs} attributes`);
    const md = attrs[name].metadata;
    if (md.type !== H5T_STRING) {
      out.push([name, { other: typeName(md.type) }]);
      continue;
    }
    const bytes = (md.total_size ?? 1) * (md.vlen ? 1 : md.size);
    if (bytes > limits.maxAttrBytes || bytes > budget.attrBytes) {
      out.push([name, { other: `string of ${bytes} bytes (too large)` }]);
      continue;
    }
    const strings = toStrings(g.get_attribute(name, false));
    if (!strings) {
      out.push([name, { other: 'string of unknown layout' }]);
      continue;
    }
    budget.attrBytes -= strings.reduce((a, s) => a + s.length, 0);
    if (budget.attrBytes < 0) throw new Limit(`attributes hold more than ${limits.maxAttrBytes} bytes in all`);
    out.push([name, { strings }]);
  }
  return out;
}

/** The whole object tree (groups with their string attributes, dataset metadata), bounded. */
function walk(limits) {
  const budget = { objects: limits.maxObjects, attrBytes: limits.maxAttrBytes };
  const visit = (g, name, depth) => {
    if (depth > limits.maxDepth) throw new Limit(`groups nest deeper than ${limits.maxDepth} levels (a link cycle?)`);
    const node = { kind: 'group', name, path: g.path, attrs: readAttrs(g, limits, budget), children: [] };
    for (const key of g.keys()) {
      if (--budget.objects < 0) throw new Limit(`holds more than ${limits.maxObjects} objects`);
      const c = g.get(key);
      if (c instanceof h5wasm.Group) node.children.push(visit(c, key, depth + 1));
      else if (c instanceof h5wasm.Dataset) {
        const md = c.metadata;
        node.children.push({ kind: 'dataset', name: key, path: c.path, shape: md.shape, type: md.type, size: md.size, littleEndian: md.littleEndian, total: md.total_size });
      } else node.children.push({ kind: 'other', name: key, path: g.path === '/' ? `/${key}` : `${g.path}/${key}` });
    }
    return node;
  };
  return visit(file, '', 0);
}

function read(paths, maxValues) {
  const values = [];
  let left = maxValues;
  for (const p of paths) {
    const ds = file.get(p);
    if (!(ds instanceof h5wasm.Dataset)) throw new Limit(`${p} is not a dataset`);
    const md = ds.metadata;
    if (md.type !== H5T_FLOAT || (md.size !== 4 && md.size !== 8) || !md.littleEndian) throw new Limit(`${p} is not a little-endian float32/float64 dataset`);
    left -= md.total_size;
    if (left < 0) throw new Limit(`datasets hold more than ${maxValues} values`);
    const v = ds.value;
    if (!(v instanceof Float32Array || v instanceof Float64Array) || v.length !== md.total_size) throw new Limit(`${p} did not read as ${md.total_size} floats`);
    values.push(v.slice());
  }
  return values;
}

parentPort.on('message', (msg) => {
  let stage = msg.op;
  try {
    if (poisoned) throw new RuntimeError('HDF5 reader crashed earlier');
    if (msg.op === 'open') {
      closeFile();
      Module.FS.writeFile(PATH, msg.bytes);
      file = new h5wasm.File(PATH, 'r');
      stage = 'walk';
      parentPort.postMessage({ ok: true, tree: walk(msg.limits) });
    } else if (msg.op === 'read') {
      const values = read(msg.paths, msg.maxValues);
      parentPort.postMessage({ ok: true, values }, values.map((v) => v.buffer));
    } else {
      closeFile();
      parentPort.postMessage({ ok: true });
    }
  } catch (err) {
    const trap = err instanceof RuntimeError;
    if (trap) poisoned = true;
    else if (stage !== 'walk' && stage !== 'read') closeFile();
    const message = err instanceof Error ? err.message : String(err);
    parentPort.postMessage({ ok: false, stage, trap, limit: err instanceof Limit, message: message.slice(0, 20_000) });
  }
});
