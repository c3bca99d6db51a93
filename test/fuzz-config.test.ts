// Property-based fuzzing of the config readers (src/core/config.ts): config file text,
// `--set key=value` pairs and already-parsed overrides, for both configs. The contract for
// every input:
// - either it is accepted, and the result is a complete config that validates again,
// - or it is refused with an InputError (never a TypeError / RangeError) whose message is
//   one printable line of bounded length that starts with the source;
// - a value is reported as the user wrote it (1e309, NaN), a key with control characters
//   escaped, a huge string cut short.
// About 3,000 cases in all, in-process.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyConfig, CONFIG_PARAMS, defaultConfig, parseConfigText, parseSetPairs, type ConfigName, type ConfigValues } from '../src/core/config.ts';
import { InputError } from '../src/core/errors.ts';
import { quoted } from '../src/core/text.ts';

const NAMES: ConfigName[] = ['processing', 'rendering'];
const SOURCE = 'fuzz.json';
const RUNS = 300;
/** What text.ts escapes: C0/C1 controls, DEL, bidi overrides, line separators, BOM. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/u;
/** The longest message: the unknown-key line lists every rendering key (≈ 400 characters). */
const MAX_MESSAGE = 1000;

type Outcome = { ok: true; config: ConfigValues } | { ok: false; message: string };

/** Runs a config step and checks the contract on either outcome. */
function outcome(name: ConfigName, source: string, fn: () => ConfigValues): Outcome {
  let config: ConfigValues;
  try {
    config = fn();
  } catch (err) {
    if (!(err instanceof InputError)) throw new Error(`expected an InputError, got ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    const message = err.message;
    expect(message).not.toMatch(UNPRINTABLE);
    expect(message.length).toBeLessThan(MAX_MESSAGE);
    expect(message.startsWith(`${source}: `) || message.startsWith('--set ')).toBe(true);
    return { ok: false, message };
  }
  // accepted: every schema key, every value valid (applying the result again changes nothing)
  expect(Object.keys(config).sort()).toEqual(CONFIG_PARAMS[name].map((p) => p.key).sort());
  expect(applyConfig(name, defaultConfig(name), config, 'again')).toEqual(config);
  return { ok: true, config };
}

const configName = fc.constantFrom(...NAMES);

/** Keys: the schema's own (flat and nested), near misses, and hostile strings. */
const anyKey = fc.oneof(
  fc.constantFrom(...NAMES.flatMap((n) => CONFIG_PARAMS[n].map((p) => p.key))),
  fc.constantFrom('edges', 'nodes', 'grid', '__proto__', 'constructor', 'toString', '', '.', 'edges.', '.size', 'sampling_rate '),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  // eslint-disable-next-line no-control-regex -- keys with control characters are the point
  fc.stringMatching(/^[a-z_]{1,6}[\u0000-\u001f\u007f\u009b\u202e][a-z]{0,4}$/),
);

/** Number literals as a user might type them, valid JSON or not. */
const numberText = fc.oneof(
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '1e309', '-1e309', '1e400', '1e-400', '-0', '0x10', '1.', '.5', '01', '+1', '1e', '١٢', '5_0', '1,5'),
  fc.double().map(String),
  fc.integer().map(String),
  fc.tuple(fc.integer({ min: -99, max: 99 }), fc.integer({ min: -400, max: 400 })).map(([m, e]) => `${m}e${e}`),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
);

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** Raw JSON value text for a config file, including literals JSON.stringify never makes. */
const jsonValueText = fc.oneof(
  numberText.filter((t) => JSON_NUMBER.test(t)),
  fc.constantFrom('true', 'false', 'null', '[]', '{}', '[1,2]', '"transparent_sphere"', '"line"', '"class_3"', '"class_10"'),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 40 }).map((s) => JSON.stringify(s)),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => JSON.stringify('x'.repeat(n))),
);

/** A config file's text: an object of key/value entries, possibly nested under a prefix. */
const configText = fc
  .array(fc.tuple(anyKey, jsonValueText, fc.constantFrom('', 'edges', 'nodes', 'grid', 'junk')), { maxLength: 6 })
  .map((entries) => {
    const parts = entries.map(([k, v, prefix]) => (prefix ? `${JSON.stringify(prefix)}: {${JSON.stringify(k)}: ${v}}` : `${JSON.stringify(k)}: ${v}`));
    return `{${parts.join(', ')}}`;
  });

/** Whatever a --set value may be: number text, JSON, bare words, hostile strings. */
const setValueText = fc.oneof(
  numberText,
  jsonValueText,
  fc.constantFrom('', ' ', 'true', 'True', 'yes', 'transparent_sphere', 'point', 'class_0', '{"size":0.5}', '{"size":1e309}', '='),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.integer({ min: 1000, max: 20_000 }).map((n) => 'y'.repeat(n)),
);

describe('config fuzzing', () => {
  it('parseConfigText: arbitrary text is accepted or refused in one printable line', () => {
    fc.assert(
      fc.property(configName, fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.jsonValue().map((v) => JSON.stringify(v))), (name, text) => {
        outcome(name, SOURCE, () => parseConfigText(name, text, SOURCE));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('parseConfigText: objects of schema keys, near misses and garbage values', () => {
    fc.assert(
      fc.property(configName, configText, (name, text) => {
        outcome(name, SOURCE, () => parseConfigText(name, text, SOURCE));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('parseConfigText: a bad number is reported as written, the key escaped', () => {
    fc.assert(
      fc.property(configName, numberText.filter((t) => JSON_NUMBER.test(t)), fc.boolean(), (name, literal, nested) => {
        const params = CONFIG_PARAMS[name].filter((p) => p.type === 'number' || p.type === 'integer');
        const p = params[literal.length % params.length];
        const [head, tail] = p.key.split('.');
        const text = nested && tail ? `{"${head}": {"${tail}": ${literal}}}` : `{"${p.key}": ${literal}}`;
        const r = outcome(name, SOURCE, () => parseConfigText(name, text, SOURCE));
        if (!r.ok) {
          expect(r.message).toContain(`${name} key '${p.key}' = ${literal} is invalid`);
        } else {
          expect(r.config[p.key]).toBe(JSON.parse(literal));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('parseSetPairs + applyConfig: random key=value pairs', () => {
    fc.assert(
      fc.property(configName, fc.array(fc.tuple(anyKey, setValueText, fc.constantFrom('=', ' = ', '')), { maxLength: 5 }), (name, pairs) => {
        const texts = pairs.map(([k, v, eq]) => `${k}${eq}${v}`);
        const r = outcome(name, '--set', () => applyConfig(name, defaultConfig(name), parseSetPairs(texts), '--set'));
        if (!r.ok) expect(r.message).toMatch(/^--set[: ]/);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('parseSetPairs: a bad value is reported as the user typed it', () => {
    fc.assert(
      fc.property(configName, numberText, (name, value) => {
        const p = CONFIG_PARAMS[name].find((q) => q.type === 'number')!;
        const r = outcome(name, '--set', () => applyConfig(name, defaultConfig(name), parseSetPairs([`${p.key}=${value}`]), '--set'));
        if (!r.ok) {
          expect(r.message).toBe(`--set: ${name} key '${p.key}' = ${value} is invalid; allowed: ${describeNumber(p)}`);
          expect(r.message).not.toContain('= null');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('applyConfig: arbitrary JavaScript values and nested garbage', () => {
    const value = fc.oneof(
      fc.constantFrom(NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, Number.MIN_VALUE, undefined, null, 10n, Symbol('s'), () => 1, new Date(0), [1, 2]),
      fc.anything({ maxDepth: 3, withBigInt: true, withNullPrototype: true, withObjectString: true, withSparseArray: true, withTypedArray: true, withMap: true, withSet: true }),
      fc.integer({ min: 1000, max: 20_000 }).map((n) => 'z'.repeat(n)),
    );
    fc.assert(
      fc.property(configName, fc.dictionary(anyKey, value, { maxKeys: 5 }), fc.dictionary(fc.constantFrom('edges', 'nodes', 'grid', 'other'), fc.dictionary(anyKey, value, { maxKeys: 3 }), { maxKeys: 2 }), (name, flat, nested) => {
        outcome(name, SOURCE, () => applyConfig(name, defaultConfig(name), { ...flat, ...nested }, SOURCE));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('names keys with control characters escaped, and cuts huge values', () => {
    fc.assert(
      // eslint-disable-next-line no-control-regex -- keys with control characters are the point
      fc.property(configName, fc.stringMatching(/^[a-z]{0,5}[\u0000-\u001f\u007f-\u009f\u202a-\u202e][a-z\u001b]{0,5}$/), fc.integer({ min: 100, max: 50_000 }), (name, key, n) => {
        const r = outcome(name, SOURCE, () => parseConfigText(name, JSON.stringify({ [key]: 1 }), SOURCE));
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.message).toContain(`unknown ${name} key ${quoted(key)}`);
        const p = CONFIG_PARAMS[name][0];
        const big = outcome(name, '--set', () => applyConfig(name, defaultConfig(name), parseSetPairs([`${p.key}=${'w'.repeat(n)}`]), '--set'));
        expect(big.ok).toBe(false);
        if (!big.ok) expect(big.message).toContain(`= ${'w'.repeat(60)}… is invalid`);
      }),
      { numRuns: RUNS },
    );
  });

  it('survives deep nesting and huge files without recursion errors', () => {
    for (const name of NAMES) {
      for (const text of ['['.repeat(50_000) + ']'.repeat(50_000), '{"edges":'.repeat(50_000) + '1' + '}'.repeat(50_000), `{"a": "${'q'.repeat(1_000_000)}"}`]) {
        outcome(name, SOURCE, () => parseConfigText(name, text, SOURCE));
      }
    }
  });
});

/** describeRange, restated: the test pins the message wording independently. */
function describeNumber(p: (typeof CONFIG_PARAMS)['processing'][number]): string {
  if (p.type !== 'number') throw new Error('numbers only');
  return `a number in ${p.exclusiveMin ? '(' : '['}${p.min}, ${p.max}${p.exclusiveMax ? ')' : ']'}`;
}
