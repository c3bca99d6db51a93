import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyConfig, CONFIG_PARAMS, defaultConfig, parseConfigText, parseSetPairs, type ConfigName } from '../src/core/config.ts';
import { configFileText, configMarkdown, withConfigTables } from '../src/core/config-docs.ts';
import { InputError } from '../src/core/errors.ts';

describe('config files', () => {
  it.each(['processing', 'rendering'] as ConfigName[])('configs/%s.json and docs/CONFIG.md match the schema (npm run configs)', (name) => {
    expect(readFileSync(`configs/${name}.json`, 'utf8')).toBe(configFileText(name));
    expect(readFileSync('docs/CONFIG.md', 'utf8')).toBe(configMarkdown());
  });

  it('README.md shows the current parameter tables (npm run configs)', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain('<!-- table:processing -->');
    expect(readme).toContain('<!-- table:rendering -->');
    expect(readme).toBe(withConfigTables(readme));
  });

  it('holds the reference processing defaults (METHOD.md §4)', () => {
    expect(defaultConfig('processing')).toEqual({
      edge_bandwidth_reduction: 0.9,
      node_bandwidth_reduction: 0.95,
      edge_importance_type: 0,
      class_density: 'share',
      node_field: 'shared',
      layer_distance: 0.5,
      layer_width: 1.0,
      prune_percentage: 0.0,
      sampling_rate: 15.0,
      smoothing: true,
      smoothing_iterations: 8,
    });
  });

  it('holds the reference shader defaults (METHOD.md §5)', () => {
    const r = defaultConfig('rendering');
    const pick = (o: string) => ['size', 'base_opacity', 'importance_opacity', 'depth_opacity', 'depth_exponent', 'importance_threshold'].map((k) => r[`${o}.${k}`]);
    expect(pick('edges')).toEqual([0.02, 0.0, 1.1, 0.5, 0.25, 0.01]);
    expect(pick('nodes')).toEqual([0.04, 0.0, 1.0, 0.5, 0.5, 0.01]);
    expect(r['edges.render_mode']).toBe('transparent_ellipsoid');
    expect(r['nodes.render_mode']).toBe('transparent_sphere');
  });

  it('parses every committed file back to the defaults', () => {
    for (const name of ['processing', 'rendering'] as ConfigName[]) {
      expect(parseConfigText(name, readFileSync(`configs/${name}.json`, 'utf8'), name)).toEqual(defaultConfig(name));
    }
  });
});

describe('validation', () => {
  const message = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(InputError);
      const text = (err as Error).message;
      expect(text).not.toContain('\n');
      return text;
    }
    throw new Error('expected an InputError');
  };

  for (const name of ['processing', 'rendering'] as ConfigName[]) {
    for (const p of CONFIG_PARAMS[name]) {
      const bad: unknown[] = [];
      if (p.type === 'number' || p.type === 'integer') {
        bad.push(p.min - 1, p.max + 1, 'abc', true, null);
        if (p.type === 'integer') bad.push(p.min + 0.5);
        if (p.type === 'number' && p.exclusiveMin) bad.push(p.min);
        if (p.type === 'number' && p.exclusiveMax) bad.push(p.max);
      } else if (p.type === 'boolean') bad.push(1, 'yes', null);
      else bad.push('nonsense', 3);
      it(`${name}: rejects bad values of ${p.key}`, () => {
        for (const value of bad) {
          const text = message(() => applyConfig(name, defaultConfig(name), { [p.key]: value }, 'my.json'));
          expect(text).toContain('my.json');
          expect(text).toContain(`'${p.key}'`);
          expect(text).toContain(JSON.stringify(value));
          expect(text).toMatch(/allowed: /);
        }
      });
    }
  }

  it('accepts values at the edges of inclusive ranges', () => {
    const c = applyConfig('processing', defaultConfig('processing'), { sampling_rate: 5, smoothing_iterations: 16, prune_percentage: 1 }, 'x');
    expect(c.sampling_rate).toBe(5);
    expect(c.smoothing_iterations).toBe(16);
  });

  it('rejects unknown keys, listing the allowed ones', () => {
    const text = message(() => applyConfig('processing', defaultConfig('processing'), { sampling_rat: 10 }, 'cfg.json'));
    expect(text).toContain("unknown processing key 'sampling_rat'");
    expect(text).toContain('sampling_rate');
  });

  it('reads nested rendering files and partial files', () => {
    const c = parseConfigText('rendering', JSON.stringify({ edges: { size: 0.05 } }), 'r.json');
    expect(c['edges.size']).toBe(0.05);
    expect(c['nodes.size']).toBe(0.04);
    expect(message(() => parseConfigText('rendering', JSON.stringify({ edges: { sise: 0.05 } }), 'r.json'))).toContain("'edges.sise'");
  });

  it('rejects malformed JSON and non-objects', () => {
    expect(message(() => parseConfigText('processing', '{ "a": ', 'broken.json'))).toMatch(/^broken\.json: not valid JSON/);
    expect(message(() => parseConfigText('processing', '[1, 2]', 'list.json'))).toContain('must be a JSON object');
  });

  it('parses --set pairs as JSON values or bare words', () => {
    expect(parseSetPairs(['sampling_rate=10', 'smoothing=false', 'edges.render_mode=line'])).toEqual({
      sampling_rate: 10,
      smoothing: false,
      'edges.render_mode': 'line',
    });
    expect(message(() => parseSetPairs(['sampling_rate']))).toContain('expected key=value');
    expect(message(() => applyConfig('processing', defaultConfig('processing'), parseSetPairs(['sampling_rate=NaN']), '--set'))).toContain("'sampling_rate' = NaN is invalid");
  });

  it('reports values as the user wrote them, never as JSON.stringify makes them (null)', () => {
    const set = (v: string) => message(() => applyConfig('processing', defaultConfig('processing'), parseSetPairs([`sampling_rate=${v}`]), '--set'));
    expect(set('1e309')).toBe("--set: processing key 'sampling_rate' = 1e309 is invalid; allowed: a number in [5, 20]");
    expect(set('-1E999')).toContain('= -1E999 is invalid');
    expect(set('"12"')).toContain('= "12" is invalid');
    expect(set(' ')).toContain("= ' ' (empty) is invalid");
    const file = (text: string) => message(() => parseConfigText('rendering', text, 'r.json'));
    expect(file('{"edges": {"size": 1e309}}')).toBe("r.json: rendering key 'edges.size' = 1e309 is invalid; allowed: a number in [0, 1]");
    expect(file('{"nodes.size": 123456789012345678901234567890}')).toContain('= 123456789012345678901234567890 is invalid');
    const direct = (v: unknown) => message(() => applyConfig('processing', defaultConfig('processing'), { sampling_rate: v }, 'x'));
    expect(direct(NaN)).toContain('= NaN is invalid');
    expect(direct(-Infinity)).toContain('= -Infinity is invalid');
    expect(direct('q'.repeat(10_000))).toMatch(/= "q{59}… is invalid/);
  });

  it('escapes keys and refuses __proto__ like any unknown key', () => {
    expect(message(() => parseConfigText('processing', '{"a\\u001b[2Jb": 1}', 'p.json'))).toContain("unknown processing key 'a\\x1b[2Jb'");
    expect(message(() => parseConfigText('processing', '{"__proto__": {"sampling_rate": 30}}', 'p.json'))).toContain("unknown processing key '__proto__'");
    expect(message(() => applyConfig('processing', defaultConfig('processing'), parseSetPairs(['__proto__=1']), '--set'))).toContain("unknown processing key '__proto__'");
  });
});
