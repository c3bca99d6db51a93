// Config schemas as data: one table per config file drives defaults, validation, the
// one-line error messages and the parameter tables in docs/CONFIG.md.
import { InputError } from './errors.ts';

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

/** Nested JSON ({"edges": {"size": 0.02}}) → dotted keys ({"edges.size": 0.02}). */
function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = v;
  }
  return out;
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
  const out = { ...base };
  for (const [key, value] of Object.entries(flatten(overrides))) {
    const p = params.find((q) => q.key === key);
    if (!p) {
      throw new InputError(`${source}: unknown ${name} key '${key}'; allowed keys: ${params.map((q) => q.key).join(', ')}`);
    }
    if (!isValid(p, value)) {
      throw new InputError(`${source}: ${name} key '${key}' = ${JSON.stringify(value)} is invalid; allowed: ${describeRange(p)}`);
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
    throw new InputError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(`${source}: a ${name} config must be a JSON object`);
  }
  return applyConfig(name, defaultConfig(name), parsed as Record<string, unknown>, source);
}

/** Parses `--set key=value` pairs; values are JSON (numbers, true/false) or bare strings. */
export function parseSetPairs(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new InputError(`--set ${pair}: expected key=value, e.g. --set sampling_rate=10`);
    const raw = pair.slice(eq + 1).trim();
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a bare word such as transparent_sphere stays a string
    }
    out[pair.slice(0, eq).trim()] = value;
  }
  return out;
}
