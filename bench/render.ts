// `npm run bench:render`: frame time per edge render mode in headless Chromium (SwiftShader,
// no GPU) at 1280×720 for a 784-81-49-10 processed network (~800k edge samples), and the
// time from "file chosen" (the viewer's load call) to the first frame. Writes the table to
// the "## Rendering" section of docs/PERFORMANCE.md.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { withViewer, chromiumPath, type RenderSettings } from '../src/cli/browser.ts';
import { writeFileAtomic } from '../src/cli/fs.ts';
import { writeNetworkFile } from '../src/cli/network-file.ts';
import { loadConfig, REPO_ROOT } from '../src/cli/options.ts';
import { RENDERING_PARAMS } from '../src/core/config.ts';
import { generateNetwork } from '../src/core/generate.ts';
import { edgeCount, type Network } from '../src/core/network.ts';

const LAYERS = [784, 81, 49, 10];
const SPACING = 1 / 15; // the default sampling_rate of 15 samples per unit length
const WIDTH = 1280;
const HEIGHT = 720;
const FRAMES = Number(process.env.FRAMES ?? 3);

/** Straight polylines from source to target node, one sample per SPACING, both ends included. */
function straightSamples(net: Network, keep: (e: number) => boolean): Network {
  const pos = net.nodePositions!;
  const offsets = new Uint32Array(edgeCount(net.layers) + 1);
  const samples: number[] = [];
  let e = 0;
  let first = 0;
  for (let k = 0; k + 1 < net.layers.length; k++) {
    const second = first + net.layers[k];
    for (let i = 0; i < net.layers[k]; i++) {
      for (let j = 0; j < net.layers[k + 1]; j++, e++) {
        offsets[e] = samples.length / 3;
        if (!keep(e)) continue;
        const a = (first + i) * 3;
        const b = (second + j) * 3;
        const length = Math.hypot(pos[b] - pos[a], pos[b + 1] - pos[a + 1], pos[b + 2] - pos[a + 2]);
        const n = Math.max(2, Math.ceil(length / SPACING) + 1);
        for (let s = 0; s < n; s++) {
          const t = s / (n - 1);
          for (let d = 0; d < 3; d++) samples.push(pos[a + d] + t * (pos[b + d] - pos[a + d]));
        }
      }
    }
    first = second;
  }
  offsets[e] = samples.length / 3;
  return { ...net, edgeSampleOffsets: offsets, edgeSamples: new Float32Array(samples) };
}

const base = generateNetwork({ layers: LAYERS, seed: 1, layerDistance: 0.5, layerWidth: 1 });
const threshold = [...base.edgeImportance!].sort((a, b) => a - b)[Math.floor(0.9 * edgeCount(LAYERS))];
const dir = mkdtempSync(join(tmpdir(), 'nnvis-bench-'));
const variants = [
  { name: 'full', net: straightSamples(base, () => true) },
  { name: 'pruned to the 10% most important edges', net: straightSamples(base, (e) => base.edgeImportance![e] >= threshold) },
].map((v, i) => {
  const file = join(dir, `net${i}.nnvis`);
  writeNetworkFile(file, v.net);
  return { ...v, file, samples: v.net.edgeSamples!.length / 3 };
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
        loads.push(`${v.name} (${v.samples.toLocaleString('en')} samples): ${((first - start) / 1000).toFixed(2)} s from load call to first frame (load ${Math.round(loaded - start)} ms, first frame ${Math.round(first - loaded)} ms)`);
        console.log(loads[loads.length - 1]);
        for (const mode of modes) {
          await viewer.configure({ ...settings, rendering: { ...rendering, 'edges.render_mode': mode } });
          await viewer.frame(); // warm-up: buffers and shaders for this mode
          const times: number[] = [];
          for (let f = 0; f < FRAMES; f++) times.push(await viewer.frame());
          times.sort((a, b) => a - b);
          const { drawnInstances } = await viewer.stats();
          rows.push([v.name, mode, drawnInstances.toLocaleString('en'), times[Math.floor(times.length / 2)].toFixed(1)]);
          console.log(rows[rows.length - 1].join(' | '));
        }
      }
    },
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const header = ['network', 'edges.render_mode', 'drawn instances', 'ms/frame (median)'];
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
  `(the default sampling rate), default rendering config, camera 0, median of ${FRAMES} frames after a warm-up;`,
  `${chromium}, ${availableParallelism()} cores.`,
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
