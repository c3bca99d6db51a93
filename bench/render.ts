// `npm run bench:render`: frame time per edge render mode in headless Chromium (SwiftShader,
// no GPU) at 1280×720 for a 784-81-49-10 network processed by `nnvis process` (bundled edges,
// ~2.4M samples; and pruned by 90%), and the time from "file chosen" (the viewer's load
// call) to the first frame. Writes the table to the "## Rendering" section of
// docs/PERFORMANCE.md. Takes about 6 minutes on 2 cores (mostly `nnvis process`).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { withViewer, type RenderSettings } from '../src/cli/browser.ts';
import { writeFileAtomic } from '../src/cli/fs.ts';
import { readNetworkFile } from '../src/cli/network-file.ts';
import { loadConfig, REPO_ROOT } from '../src/cli/options.ts';
import { RENDERING_PARAMS } from '../src/core/config.ts';

const LAYERS = [784, 81, 49, 10];
const WIDTH = 1280;
const HEIGHT = 720;
const FRAMES = Number(process.env.FRAMES ?? 3);
const SLOW_MS = 10_000;

// The machine may be shared: the load before we start says how much the numbers can be trusted.
const loadBefore = loadavg()[0];
const dir = mkdtempSync(join(tmpdir(), 'nnvis-bench-'));
const nnvis = (...args: string[]) => execFileSync(process.execPath, [resolve(REPO_ROOT, 'bin/nnvis.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const source = join(dir, 'random.nnvis');
nnvis('generate', '--layers', LAYERS.join(','), '--seed', '1', '-o', source);
const variants = [
  { name: 'processed', set: [] },
  { name: 'processed, prune_percentage 0.9', set: ['--set', 'prune_percentage=0.9'] },
].map((v, i) => {
  const file = join(dir, `processed${i}.nnvis`);
  console.log(`nnvis process ${v.set.join(' ')}…`);
  nnvis('process', source, '--seed', '1', ...v.set, '-o', file);
  const samples = readNetworkFile(file).edgeSamples!.length / 3;
  return { ...v, file, label: `${v.name} (${samples.toLocaleString('en')} samples)` };
});

const rendering = loadConfig('rendering', {});
delete rendering.class_visibility; // set through classVisibility
const modes = (RENDERING_PARAMS.find((p) => p.key === 'edges.render_mode') as { values: readonly string[] }).values;
const rows: string[][] = [];
const loads: string[] = [];
let chromium = 'Chromium';
try {
  await withViewer(
    variants.map((v) => v.file),
    WIDTH,
    HEIGHT,
    async (viewer, urls) => {
      chromium = `Chromium ${viewer.browserVersion()}`;
      for (const [i, v] of variants.entries()) {
        const settings: RenderSettings = { width: WIDTH, height: HEIGHT, camera: 0, classVisibility: 'independent', rendering };
        await viewer.configure(settings);
        const start = performance.now();
        await viewer.load(urls[i], v.file);
        const loaded = performance.now();
        const firstMs = await viewer.frame();
        const first = performance.now();
        loads.push(`${v.label}: ${((first - start) / 1000).toFixed(2)} s from load call to first frame (load ${Math.round(loaded - start)} ms, first frame ${Math.round(first - loaded)} ms)`);
        console.log(loads[loads.length - 1]);
        for (const mode of modes) {
          await viewer.configure({ ...settings, rendering: { ...rendering, 'edges.render_mode': mode } });
          // A warm-up frame (shaders and buffers of this mode) unless frames take seconds
          // anyway, where compiling is noise and a second frame would double the run.
          if (firstMs < SLOW_MS) await viewer.frame();
          // Several frames where they are quick; once a mode has cost 30 s, one is enough.
          const times: number[] = [];
          for (let spent = 0; times.length < FRAMES && (times.length === 0 || spent < 30_000); ) {
            times.push(await viewer.frame());
            spent += times[times.length - 1];
          }
          times.sort((a, b) => a - b);
          const ms = times[Math.floor(times.length / 2)];
          const { drawnInstances } = await viewer.stats();
          const perInstance = drawnInstances > 10_000 ? ((ms * 1000) / drawnInstances).toFixed(1) : '—';
          rows.push([v.label, mode, drawnInstances.toLocaleString('en'), ms < 100 ? ms.toFixed(1) : ms.toFixed(0), String(times.length), perInstance]);
          console.log(rows[rows.length - 1].join(' | '));
        }
      }
    },
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const header = ['network', 'edges.render_mode', 'drawn instances', 'ms/frame', 'frames', 'µs/instance'];
const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => r[i].length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
const table = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');

const loadAfter = loadavg()[0];
const machine = `Machine: ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores (nproc), Node ${process.version}, ${chromium}.`;
const section = [
  '## Rendering',
  '',
  `\`npm run bench:render\`: headless Chromium with SwiftShader (software WebGL2, no GPU), ${WIDTH}×${HEIGHT},`,
  `a random ${LAYERS.join('-')} network (\`nnvis generate --seed 1\`) bundled by \`nnvis process --seed 1\` with the default`,
  'processing config, and once more with 90% of the edges pruned; default rendering config, camera 0.',
  `ms/frame: median of up to ${FRAMES} frames (the viewer's \`frame()\`, which waits for the pixels), after a warm-up frame`,
  `unless the first frame took over ${SLOW_MS / 1000} s; time to first frame: from the viewer's \`load()\` call to the end of its first frame.`,
  `${chromium}, ${availableParallelism()} cores, load average ${loadBefore.toFixed(1)} at the start and ${loadAfter.toFixed(1)} at the end${Math.max(loadBefore, loadAfter) > availableParallelism() ? ' (a busy machine: other work slowed these frames, by up to 2× between runs)' : ''}.`,
  '',
  table,
  '',
  ...loads.map((l) => `- ${l}`),
  '',
].join('\n');
console.log(`\n${table}\n`);

// Only this section is ours; other sections (## Processing) belong to other benchmarks.
const doc = resolve(REPO_ROOT, 'docs/PERFORMANCE.md');
const text = existsSync(doc) ? readFileSync(doc, 'utf8') : `# Performance\n\n${machine}\n\n`;
const at = text.indexOf('## Rendering');
const next = at < 0 ? -1 : text.indexOf('\n## ', at + 1);
const updated = at < 0 ? `${text.trimEnd()}\n\n${section}` : `${text.slice(0, at)}${section}${next < 0 ? '' : text.slice(next)}`;
writeFileAtomic(doc, updated);
console.log(`updated ${doc}`);
