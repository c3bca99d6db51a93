import { readFileSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option } from 'commander';
import { applyConfig, parseConfigText, parseSetPairs, type ConfigName, type ConfigValues } from '../core/config.ts';
import { InputError } from '../core/errors.ts';
import { edgeCount, nodeCount } from '../core/network.ts';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** Commander parser for comma-separated positive integers ("784,81,49,10"). */
export function parseIntList(flag: string, min = 1) {
  return (text: string): number[] => {
    const items = text.split(',').map((s) => s.trim());
    const values = items.map(Number);
    if (items.some((s) => !/^\d+$/.test(s)) || values.some((v) => v < min || v > 10_000_000)) {
      throw new InvalidArgumentError(`${flag} must be comma-separated integers ≥ ${min}, e.g. 784,81,49,10; got '${text}'`);
    }
    return values;
  };
}

export function parseIntIn(flag: string, min: number, max: number) {
  return (text: string): number => {
    const v = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || v < min || v > max) {
      throw new InvalidArgumentError(`${flag} must be an integer in [${min}, ${max}]; got '${text}'`);
    }
    return v;
  };
}

export function parseNumberIn(flag: string, min: number, max: number, exclusiveMin = false) {
  return (text: string): number => {
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v) || v < min || v > max || (exclusiveMin && v === min)) {
      throw new InvalidArgumentError(`${flag} must be a number in ${exclusiveMin ? '(' : '['}${min}, ${max}]; got '${text}'`);
    }
    return v;
  };
}

export const parseSeed = parseIntIn('--seed', 0, 2 ** 32 - 1);

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The config a command runs with: the schema defaults, overlaid by --config FILE or else
 * the repository's configs/<name>.json, then each --set key=value; every step validated.
 */
export function loadConfig(name: ConfigName, opts: { config?: string; set?: string[] }): ConfigValues {
  const file = opts.config ?? resolve(REPO_ROOT, 'configs', `${name}.json`);
  const values = parseConfigText(name, readConfigFile(file, name, opts.config !== undefined), file);
  return applyConfig(name, values, parseSetPairs(opts.set ?? []), '--set');
}

/** A config is a small JSON file; anything bigger is a wrong path (a model, /dev/zero). */
const MAX_CONFIG_BYTES = 1024 * 1024;

function readConfigFile(path: string, name: ConfigName, given: boolean): string {
  const hint = `give a JSON file such as configs/${name}.json`;
  const file = given ? `--config ${path === '' ? "''" : path}` : path;
  if (path === '') throw new InputError(`${file}: empty path; ${hint}`);
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError(`${file}: config file not found`);
    throw new InputError(`${file}: cannot read the config file (${code === 'EACCES' ? 'permission denied' : code})`);
  }
  if (st.isDirectory()) throw new InputError(`${file}: is a directory; ${hint}`);
  // FIFOs stay allowed, for --config <(…)
  if (!st.isFile() && !st.isFIFO()) throw new InputError(`${file}: is not a regular file; ${hint}`);
  if (st.size > MAX_CONFIG_BYTES) throw new InputError(`${file}: is ${(st.size / 1e6).toFixed(1)} MB, too big for a config (at most 1 MiB); ${hint}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: cannot read the config file (${code === 'EACCES' ? 'permission denied' : (code ?? 'read error')})`);
  }
  if (text.length > MAX_CONFIG_BYTES) throw new InputError(`${file}: too big for a config (at most 1 MiB); ${hint}`);
  return text;
}

// ---------------------------------------------------------------------------------------
// Memory: every command that builds a network estimates its peak up front and refuses a
// run over --max-memory, naming the estimate and what to change (process does the same
// in its worker, from the bundling state).

/** Default of --max-memory, in GB (decimal), for every command that has it. */
export const DEFAULT_MAX_MEMORY_GB = 3;

/** --max-memory <GB>, the same flag and default on every command that builds a network. */
export function maxMemoryOption(): Option {
  return new Option('--max-memory <GB>', 'refuse runs whose estimated peak memory exceeds this many GB')
    .argParser(parseNumberIn('--max-memory', 0.1, 1024, false))
    .default(DEFAULT_MAX_MEMORY_GB);
}

/**
 * nnvis reads a .nnvis file in one piece, and Node reads at most 2 GiB at once, so no
 * command writes a larger one.
 */
export const MAX_NETWORK_FILE_BYTES = 2 ** 31 - 1;

/** What a .nnvis file of this shape holds, in bytes (arrays plus a header allowance). */
export function networkFileBytes(layers: readonly number[], parts: { weights?: boolean; importance?: boolean; positions?: boolean }): number {
  const n = nodeCount(layers);
  const e = edgeCount(layers);
  const classes = layers[layers.length - 1];
  let bytes = 64 * 1024;
  if (parts.weights) bytes += 4 * e + 4 * (n - layers[0]);
  if (parts.importance) bytes += 4 * e + 4 * n * classes;
  if (parts.positions) bytes += 12 * n;
  return bytes;
}

export interface MemoryEstimate {
  /** Who is asking, e.g. `--layers 100000,100000` or `model.nnvis`. */
  source: string;
  /** The job in words, e.g. `a 784-100000-10 network (78500000 edges)`. */
  what: string;
  /** Estimated peak bytes of the process. */
  bytes: number;
  /** Size of the .nnvis file it writes, if any (limited to MAX_NETWORK_FILE_BYTES). */
  fileBytes?: number;
  /** A hard limit no --max-memory lifts (e.g. TensorFlow.js's 4 GiB of WebAssembly memory). */
  hardLimit?: { bytes: number; needs: number; what: string };
  /** What to change, e.g. `use fewer or smaller layers`. */
  advice: string;
}

const gb = (bytes: number): string => (bytes / 1e9).toFixed(2);

/** Refuses, in one line, a run whose estimate exceeds the limits; returns the estimate. */
export function checkMemory(estimate: MemoryEstimate, maxMemoryGb: number): number {
  const { source, what, bytes, fileBytes, hardLimit, advice } = estimate;
  if (fileBytes !== undefined && fileBytes > MAX_NETWORK_FILE_BYTES) {
    throw new InputError(`${source}: ${what} makes a ${gb(fileBytes)} GB .nnvis file, over the 2 GiB (2.15 GB) nnvis can read back; ${advice}`);
  }
  if (hardLimit && hardLimit.needs > hardLimit.bytes) {
    throw new InputError(`${source}: ${what} needs about ${gb(hardLimit.needs)} GB of ${hardLimit.what}, over its ${gb(hardLimit.bytes)} GB limit; ${advice}`);
  }
  const limit = maxMemoryGb * 1e9;
  if (bytes > limit) {
    throw new InputError(`${source}: ${what} needs about ${gb(bytes)} GB of memory, over the ${gb(limit)} GB limit; ${advice}, or raise --max-memory`);
  }
  return bytes;
}

/** `784-81-49-10 (64000 edges)`, the way estimates name a network. */
export function describeNetwork(layers: readonly number[]): string {
  return `${layers.join('-')} (${edgeCount(layers)} edges)`;
}

/** TensorFlow.js runs on WebAssembly (32-bit): every tensor of a thread lives in at most 4 GiB. */
export const TFJS_WASM_BYTES = 2 ** 32;
