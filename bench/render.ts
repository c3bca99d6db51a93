// `npm run bench:render`: frame time per edge render mode in headless Chromium (SwiftShader,
// no GPU) at 1280×720 for a 784-81-49-10 processed network (~800k edge samples), and the
// time from "file chosen" (the viewer's load call) to the first frame. Writes the table to
// the "## Rendering" section of docs/PERFORMANCE.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { withViewer, chromiumPath, type RenderSettings } from '../src/cli/browser.ts';
import { writeFileAtomic } from '../src/cli/fs.ts';
import { writeNetworkFile } from '../src/cli/network-file.ts';
import { loadConfig, REPO_ROOT } from '../src/cli/options.ts';
import { RENDERING_PARAMS } from '../src/core/config.ts';
import { generateNetwork } from '../src/core/generate.ts';
import { edgeCount, type Network } from '../src/core/network.ts';
import { straightSamples } from '../src/viewer/scene-data.ts';

const LAYERS = [784, 81, 49, 10];
const SPACING = 1 / 15; // the default sampling_rate of 15 samples per unit length
const WIDTH = 1280;
const HEIGHT = 720;
const FRAMES = Number(process.env.FRAMES ?? 3);

/** `net` with straight edges (as the viewer draws unprocessed files), only the edges `keep` accepts. */
function processedStraight(net: Network, keep: (e: number) => boolean): Network {
  const { offsets, samples } = straightSamples(net.layers, net.nodePositions!, SPACING);
  const kept = new Uint32Array(offsets.length);
  const out = new Float32Array(samples.length);
  for (let e = 0; e + 1 < offsets.length; e++) {
    const n = keep(e) ? offsets[e + 1] - offsets[e] : 0; // a pruned edge owns no samples
    out.set(samples.subarray(offsets[e] * 3, (offsets[e] + n) * 3), kept[e] * 3);
    kept[e + 1] = kept[e] + n;
  }
  return { ...net, edgeSampleOffsets: kept, edgeSamples: out.slice(0, kept[kept.length - 1] * 3) };
}

// The machine may be shared: the load before we start says how much the numbers can be trusted.
const loadBefore = loadavg()[0];
const base = generateNetwork({ layers: LAYERS, seed: 1, layerDistance: 0.5, layerWidth: 1 });
const threshold = [...base.edgeImportance!].sort((a, b) => a - b)[Math.floor(0.9 * edgeCount(LAYERS))];
const dir = mkdtempSync(join(tmpdir(), 'nnvis-bench-'));
const variants = [
  { name: 'full', net: processedStraight(base, () => true) },
  { name: 'pruned', net: processedStraight(base, (e) => base.edgeImportance![e] >= threshold) },
].map((v, i) => {
  const file = join(dir, `net${i}.nnvis`);
  writeNetworkFile(file, v.net);
  const samples = v.net.edgeSamples!.length / 3;
  return { ...v, file, label: `${v.name} (${samples.toLocaleString('en')} samples)` };
});

const rendering = loadConfig('rendering', {});
delete rendering.class_visibility; // set through classVisibility
const modes = (RENDERING_PARAMS.find((p) => p.key === 'edges.render_mode') as { values: readonly string[] }).values;
const rows: string[][] = [];
const loads: string[] = [];
try {
  await withViewer(
    variants.map((v) => v.file),
    WIDTH,
    HEIGHT,
    async (viewer, urls) => {
      for (const [i, v] of variants.entries()) {
        const settings: RenderSettings = { width: WIDTH, height: HEIGHT, camera: 0, classVisibility: 'independent', rendering };
        await viewer.configure(settings);
        const start = performance.now();
        await viewer.load(urls[i], v.file);
        const loaded = performance.now();
        await viewer.frame();
        const first = performance.now();
        loads.push(`${v.label}: ${((first - start) / 1000).toFixed(2)} s from load call to first frame (load ${Math.round(loaded - start)} ms, first frame ${Math.round(first - loaded)} ms)`);
        console.log(loads[loads.length - 1]);
        for (const mode of modes) {
          await viewer.configure({ ...settings, rendering: { ...rendering, 'edges.render_mode': mode } });
          await viewer.frame(); // warm-up: buffers and shaders for this mode
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

const chromium = execFileSync(chromiumPath(), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
const machine = `Machine: ${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores (nproc), Node ${process.version}, ${chromium}.`;
const section = [
  '## Rendering',
  '',
  `\`npm run bench:render\`: headless Chromium with SwiftShader (software WebGL2, no GPU), ${WIDTH}×${HEIGHT},`,
  `a random ${LAYERS.join('-')} network (\`generateNetwork\`, seed 1) with straight edges sampled every 1/15`,
  `(the default sampling rate), default rendering config, camera 0. "pruned" keeps the samples of the 10% most`,
  `important edges only. ms/frame: median of up to ${FRAMES} frames after a warm-up frame (the viewer's \`frame()\`,`,
  'which waits for the pixels); time to first frame: from the viewer\'s `load()` call to the end of its first frame.',
  `${chromium}, ${availableParallelism()} cores, load average ${loadBefore.toFixed(1)} at the start${loadBefore > availableParallelism() ? ' (a busy machine: other work slowed these frames, by up to 2× between runs)' : ''}.`,
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
