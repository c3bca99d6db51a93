import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from 'commander';
import { applyConfig, parseConfigText, parseSetPairs, type ConfigName, type ConfigValues } from '../core/config.ts';
import { InputError } from '../core/errors.ts';

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
  if (!existsSync(file)) throw new InputError(`${file}: config file not found`);
  const values = parseConfigText(name, readFileSync(file, 'utf8'), file);
  return applyConfig(name, values, parseSetPairs(opts.set ?? []), '--set');
}
