// Config schemas as data: one table per config file drives defaults, validation, the
// one-line error messages and the parameter tables in docs/CONFIG.md.
import { InputError } from './errors.ts';
import { printable, quoted } from './text.ts';

type ParamType =
  | { type: 'number'; min: number; max: number; exclusiveMin?: boolean; exclusiveMax?: boolean }
  | { type: 'integer'; min: number; max: number }
  | { type: 'boolean' }
  | { type: 'enum'; values: readonly string[] };

export type Param = ParamType & { key: string; default: number | boolean | string; description: string };

export type ConfigName = 'processing' | 'rendering';
export type ConfigValues = Record<string, number | boolean | string>;

export const PROCESSING_PARAMS: readonly Param[] = [
  { key: 'edge_bandwidth_reduction', type: 'number', min: 0, max: 1, exclusiveMin: true, exclusiveMax: true, default: 0.9, description: 'factor applied to the edge kernel bandwidth each iteration' },
  { key: 'class_density', type: 'enum', values: ['share', 'importance'], default: 'share', description: "what an edge sample adds to each class channel of the density: its class share (as nn_vis), or its class share times its importance (overall × alpha)" },
  { key: 'node_field', type: 'enum', values: ['shared', 'per_layer'], default: 'shared', description: 'node density: one x/y field of all layers (nodes of a class line up across layers) or one field per layer' },
  { key: 'node_bandwidth_reduction', type: 'number', min: 0, max: 1, exclusiveMin: true, exclusiveMax: true, default: 0.95, description: 'factor applied to the node kernel bandwidth each iteration' },
  { key: 'edge_importance_type', type: 'integer', min: 0, max: 3, default: 0, description: "how an edge sample's class mix is derived: 0 interpolate, 1 start node, 2 sum, 3 end node" },
  { key: 'layer_distance', type: 'number', min: 0, max: 1, exclusiveMin: true, default: 0.5, description: 'distance between layer planes' },
  { key: 'layer_width', type: 'number', min: 0, max: 1, exclusiveMin: true, default: 1.0, description: "side of each layer's square plane" },
  { key: 'prune_percentage', type: 'number', min: 0, max: 1, default: 0.0, description: 'share of least important edges dropped before processing' },
  { key: 'sampling_rate', type: 'number', min: 5, max: 20, default: 15.0, description: 'edge samples per unit length (cost grows fast)' },
  { key: 'smoothing', type: 'boolean', default: true, description: 'Laplacian smoothing after each advection step' },
  { key: 'smoothing_iterations', type: 'integer', min: 0, max: 16, default: 8, description: 'smoothing passes per step' },
];

const RENDER_OBJECT_PARAMS = (o: { size: number; io: number; de: number }): Param[] => [
  { key: 'size', type: 'number', min: 0, max: 1, default: o.size, description: 'primitive size' },
  { key: 'base_opacity', type: 'number', min: 0, max: 1, default: 0.0, description: 'opacity every fragment gets' },
  { key: 'importance_opacity', type: 'number', min: 0, max: 2, default: o.io, description: 'weight of importance in the opacity' },
  { key: 'depth_opacity', type: 'number', min: 0, max: 1, default: 0.5, description: 'weight of relative depth in the opacity' },
  { key: 'depth_exponent', type: 'number', min: 0, max: 10, default: o.de, description: 'exponent on the path length through the primitive' },
  { key: 'importance_threshold', type: 'number', min: 0, max: 1, default: 0.01, description: 'objects below this importance are not drawn' },
];

const prefixed = (prefix: string, params: Param[]): Param[] =>
  params.map((p) => ({ ...p, key: `${prefix}.${p.key}`, description: `${prefix}: ${p.description}` }));

export const RENDERING_PARAMS: readonly Param[] = [
  { key: 'edges.render_mode', type: 'enum', values: ['none', 'sphere', 'transparent_sphere', 'transparent_ellipsoid', 'line', 'point'], default: 'transparent_ellipsoid', description: 'edges: primitive drawn per sample' },
  ...prefixed('edges', RENDER_OBJECT_PARAMS({ size: 0.02, io: 1.1, de: 0.25 })),
  { key: 'nodes.render_mode', type: 'enum', values: ['none', 'sphere', 'transparent_sphere', 'point'], default: 'transparent_sphere', description: 'nodes: primitive drawn per node' },
  ...prefixed('nodes', RENDER_OBJECT_PARAMS({ size: 0.04, io: 1.0, de: 0.5 })),
  { key: 'grid.render_mode', type: 'enum', values: ['none', 'cube', 'point'], default: 'none', description: 'density grid display' },
  { key: 'class_visibility', type: 'enum', values: ['independent', 'all', ...Array.from({ length: 10 }, (_, i) => `class_${i}`)], default: 'independent', description: 'grey by overall importance, all class colours, or one class' },
  { key: 'palette', type: 'enum', values: ['vivid', 'reference', 'tab10'], default: 'vivid', description: 'class colours: vivid (saturated, colour-blind aware), reference (nn_vis), tab10 (Matplotlib)' },
];

export const CONFIG_PARAMS: Record<ConfigName, readonly Param[]> = {
  processing: PROCESSING_PARAMS,
  rendering: RENDERING_PARAMS,
};

export function defaultConfig(name: ConfigName): ConfigValues {
  return Object.fromEntries(CONFIG_PARAMS[name].map((p) => [p.key, p.default]));
}

export function describeRange(p: Param): string {
  switch (p.type) {
    case 'number':
      return `a number in ${p.exclusiveMin ? '(' : '['}${p.min}, ${p.max}${p.exclusiveMax ? ')' : ']'}`;
    case 'integer':
      return `an integer in [${p.min}, ${p.max}]`;
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${p.values.join(', ')}`;
  }
}

function isValid(p: Param, v: unknown): boolean {
  switch (p.type) {
    case 'number':
    case 'integer':
      return (
        typeof v === 'number' &&
        Number.isFinite(v) &&
        (p.type === 'number' || Number.isInteger(v)) &&
        (p.type === 'number' && p.exclusiveMin ? v > p.min : v >= p.min) &&
        (p.type === 'number' && p.exclusiveMax ? v < p.max : v <= p.max)
      );
    case 'boolean':
      return typeof v === 'boolean';
    case 'enum':
      return typeof v === 'string' && p.values.includes(v);
  }
}

/** Dotted prefixes of the schema's keys ('edges', 'nodes', …): only these nest. */
function keyPrefixes(params: readonly Param[]): Set<string> {
  const out = new Set<string>();
  for (const p of params) {
    const parts = p.key.split('.');
    for (let i = 1; i < parts.length; i++) out.add(parts.slice(0, i).join('.'));
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Nested JSON ({"edges": {"size": 0.02}}) → dotted keys ({"edges.size": 0.02}). Only the
 * schema's prefixes are descended into, so recursion is as deep as the schema whatever the
 * input; any other object stays a value (and is then reported as invalid or unknown). The
 * result has no prototype, so a key such as `__proto__` is an ordinary (unknown) key.
 */
function flatten(obj: Record<string, unknown>, prefixes: ReadonlySet<string>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObject(v) && prefixes.has(key)) Object.assign(out, flatten(v, prefixes, key));
    else out[key] = v;
  }
  return out;
}

/**
 * A value as a message shows it: the text the user typed where it is known (`1e309`, not
 * what JSON.parse made of it), else a readable rendering (NaN, Infinity, "a string");
 * always one printable line of bounded length.
 */
function showValue(value: unknown, raw: string | undefined): string {
  // cut long texts before escaping them: printable() walks the whole string
  const clip = (text: string): string => printable(text.length > 240 ? text.slice(0, 240) : text, 60);
  if (raw !== undefined) return raw.trim() === '' ? `'${clip(raw)}' (empty)` : clip(raw.trim());
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'symbol' || value === undefined) return clip(String(value));
  try {
    return clip(JSON.stringify(value) ?? typeof value);
  } catch {
    return typeof value;
  }
}

/** The user's text for each override (`--set` values, number literals of a config file), by dotted key. */
const RAW_TEXT = new WeakMap<object, ReadonlyMap<string, string>>();

/** `raw` where it is the text of `value` (a safety net against duplicate keys and the like). */
function rawTextOf(raw: string | undefined, value: unknown): string | undefined {
  if (raw === undefined) return undefined;
  let parsed: unknown = raw.trim();
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a bare word
  }
  return Object.is(parsed, value) ? raw : undefined;
}

/** Dotted keys → nested JSON, the shape of configs/*.json. */
export function nestConfig(values: ConfigValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(values)) {
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]] = v;
  }
  return out;
}

/**
 * Applies overrides (a parsed config file, or --set pairs) on top of `base` and validates
 * each: unknown keys, wrong types and out-of-range values fail with one line naming the
 * source, the key, the value and what is allowed.
 */
export function applyConfig(name: ConfigName, base: ConfigValues, overrides: Record<string, unknown>, source: string): ConfigValues {
  const params = CONFIG_PARAMS[name];
  const raw = RAW_TEXT.get(overrides);
  const out = { ...base };
  for (const [key, value] of Object.entries(flatten(overrides, keyPrefixes(params)))) {
    const p = params.find((q) => q.key === key);
    if (!p) {
      throw new InputError(`${source}: unknown ${name} key ${quoted(key)}; allowed keys: ${params.map((q) => q.key).join(', ')}`);
    }
    if (!isValid(p, value)) {
      throw new InputError(`${source}: ${name} key ${quoted(key)} = ${showValue(value, rawTextOf(raw?.get(key), value))} is invalid; allowed: ${describeRange(p)}`);
    }
    out[key] = value as number | boolean | string;
  }
  return out;
}

/** Parses a config file's text (JSON object, possibly partial). */
export function parseConfigText(name: ConfigName, text: string, source: string): ConfigValues {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: not valid JSON (${printable((err as Error).message, 120)})`);
  }
  if (!isObject(parsed)) {
    throw new InputError(`${source}: a ${name} config must be a JSON object`);
  }
  RAW_TEXT.set(parsed, numberLiterals(text));
  return applyConfig(name, defaultConfig(name), parsed, source);
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * The source text of the number literals of valid JSON `text` that sit in objects only
 * (the places config keys can be), by dotted key path, e.g. {"edges.size": "1e309"}; the
 * last of duplicate keys wins, as in JSON.parse. One pass, no recursion, so any nesting is safe.
 */
function numberLiterals(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const kinds: string[] = []; // '{' or '[' per open container
  const names: (string | undefined)[] = []; // the key each open container sits under
  let key: string | undefined;
  let expectKey = false;
  for (let i = 0; i < text.length; ) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (expectKey) key = JSON.parse(text.slice(i, j + 1)) as string;
      expectKey = false;
      i = j + 1;
    } else if (ch === '{' || ch === '[') {
      names.push(kinds.at(-1) === '{' ? key : undefined);
      kinds.push(ch);
      key = undefined;
      expectKey = ch === '{';
      i++;
    } else if (ch === '}' || ch === ']') {
      kinds.pop();
      names.pop();
      i++;
    } else if (ch === ',') {
      expectKey = kinds.at(-1) === '{';
      i++;
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      NUMBER.lastIndex = i;
      const literal = NUMBER.exec(text)?.[0] ?? ch;
      // config keys are at most a few levels deep; deeper or array-held numbers are never named
      if (kinds.length <= 4 && kinds.every((k) => k === '{') && key !== undefined) out.set([...names.slice(1), key].join('.'), literal);
      i += literal.length;
    } else i++;
  }
  return out;
}

/** Parses `--set key=value` pairs; values are JSON (numbers, true/false) or bare strings. */
export function parseSetPairs(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  const rawText = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, Math.max(eq, 0)).trim();
    if (eq < 0 || key === '') throw new InputError(`--set ${quoted(pair)}: expected key=value, e.g. --set sampling_rate=10`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw.trim();
    try {
      value = JSON.parse(raw);
    } catch {
      // a bare word such as transparent_sphere stays a string
    }
    out[key] = value;
    rawText.set(key, raw);
  }
  RAW_TEXT.set(out, rawText);
  return out;
}
