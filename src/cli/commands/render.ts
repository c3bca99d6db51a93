import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { ANTIALIAS_HELP, ANTIALIAS_MODES, isAntialiasRequest, type AntialiasRequest } from '../../core/antialias.ts';
import { RENDERING_PARAMS } from '../../core/config.ts';
import { InputError } from '../../core/errors.ts';
import type { RenderSettings } from '../browser.ts';
import { BROWSER_HELP } from '../browser-find.ts';
import { checkOutputFile, writeFileAtomic } from '../fs.ts';
import { readNetworkFile } from '../network-file.ts';
import { collect, loadConfig, parseIntIn } from '../options.ts';

// Options shared by `render` and `compare`, and their validation against the networks.

export interface RenderFlags {
  width: number;
  height: number;
  camera?: number;
  class?: string;
  edges?: string;
  nodes?: string;
  config?: string;
  set: string[];
  verbose?: boolean;
  /** false with --no-simplify. */
  simplify?: boolean;
  antialias: AntialiasRequest;
}

function modeParser(flag: string, key: string) {
  const p = RENDERING_PARAMS.find((q) => q.key === key);
  const values = p?.type === 'enum' ? p.values : [];
  return (text: string): string => {
    if (!values.includes(text)) throw new InvalidArgumentError(`${flag} must be one of ${values.join(', ')}; got '${text}'`);
    return text;
  };
}

function parseAntialias(text: string): AntialiasRequest {
  if (!isAntialiasRequest(text)) throw new InvalidArgumentError(`--antialias must be one of ${ANTIALIAS_MODES.join(', ')}; got '${text}'`);
  return text;
}

const CLASS_HELP = "'all' (every class colour), 'independent' (grey by overall importance) or a class index";

function parseClass(text: string): string {
  if (text !== 'all' && text !== 'independent' && !/^\d+$/.test(text)) {
    throw new InvalidArgumentError(`--class must be ${CLASS_HELP}; got '${text}'`);
  }
  return text;
}

export function addRenderOptions(cmd: Command, size: { width: number; height: number }): Command {
  return cmd
    .option('--width <px>', 'image width in pixels', parseIntIn('--width', 16, 8192), size.width)
    .option('--height <px>', 'image height in pixels', parseIntIn('--height', 16, 8192), size.height)
    .option('--camera <n>', 'camera preset 0-9 (default 0)', parseIntIn('--camera', 0, 9))
    .option('--class <c>', `class visibility: ${CLASS_HELP} (default: all for files with importance, else independent; with --config or --set, the config's class_visibility)`, parseClass)
    .option('--edges <mode>', 'edge render mode (default: the config\'s edges.render_mode)', modeParser('--edges', 'edges.render_mode'))
    .option('--nodes <mode>', 'node render mode (default: the config\'s nodes.render_mode)', modeParser('--nodes', 'nodes.render_mode'))
    .option('--config <file>', 'rendering config (default configs/rendering.json, docs/CONFIG.md)')
    .option('--set <key=value>', 'override one rendering config value, e.g. edges.size=0.03 (repeatable)', collect, [])
    .option('--no-simplify', 'draw every edge sample: no merging of straight runs of samples into one ellipsoid or line (slower; the default differs in fine detail only, docs/PERFORMANCE.md#rendering)')
    .option('--antialias <mode>', `${ANTIALIAS_HELP} (docs/PERFORMANCE.md#antialiasing)`, parseAntialias, 'auto')
    .option('--verbose', 'say which browser and WebGL renderer draw the picture')
    .addHelpText('after', `\n${BROWSER_HELP}`);
}

/**
 * Everything a render needs, checked before any browser starts: the rendering config
 * (file, --set, then the mode flags on top) and the class, which must exist in every network.
 * Without --class, --config or --set class_visibility=…, networks with importance are drawn in
 * all class colours (as the viewer opens them), others in independent grey.
 */
export function renderSettings(flags: RenderFlags, classCount: number, camera: number, hasImportance = false): RenderSettings {
  const config = loadConfig('rendering', flags);
  if (flags.edges) config['edges.render_mode'] = flags.edges;
  if (flags.nodes) config['nodes.render_mode'] = flags.nodes;
  const { class_visibility: configClass, ...rendering } = config;
  const classChosen = flags.class !== undefined || flags.config !== undefined || flags.set.some((p) => p.trim().startsWith('class_visibility'));
  const fileClass = classChosen ? String(configClass) : hasImportance ? 'all' : 'independent';
  const source = flags.class !== undefined ? `--class ${flags.class}` : `rendering key 'class_visibility' = ${configClass}`;
  const text = flags.class ?? fileClass.replace(/^class_/, '');
  let classVisibility: RenderSettings['classVisibility'] = text as 'all' | 'independent';
  if (/^\d+$/.test(text)) {
    classVisibility = Number(text);
    if (classVisibility >= classCount) {
      throw new InputError(`${source}: the network has ${classCount} classes; allowed: all, independent or 0-${classCount - 1}`);
    }
  }
  return { width: flags.width, height: flags.height, camera, classVisibility, rendering, simplify: flags.simplify !== false };
}

export function requirePng(output: string): void {
  if (!/\.png$/i.test(output)) throw new InputError(`-o ${output}: the output must be a .png file`);
}

/** "wrote out.png (1920×1080, 312 kB) in 1.42 s, frame 830 ms" */
export function describeWrite(path: string, width: number, height: number, seconds: number, frameMs: number[]): string {
  const kb = Math.round(statSync(path).size / 1024);
  const frames = frameMs.map((ms) => Math.round(ms)).join(' + ');
  return `wrote ${path} (${width}×${height}, ${kb} kB) in ${seconds.toFixed(2)} s, frame${frameMs.length > 1 ? 's' : ''} ${frames} ms`;
}

function parseCameras(text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  const values = items.map(Number);
  if (items.some((s) => !/^\d$/.test(s)) || new Set(values).size !== values.length) {
    throw new InvalidArgumentError(`--cameras must be distinct camera presets 0-9 separated by commas, e.g. 0,1,2; got '${text}'`);
  }
  return values;
}

export function registerRender(program: Command): void {
  const cmd = program
    .command('render')
    .description('render an .nnvis file to PNG in headless Chromium (software WebGL, no GPU needed)')
    .argument('<file>', '.nnvis file of any kind (unprocessed ones are drawn with straight edges)')
    .requiredOption('-o, --output <file>', 'output .png; with --cameras, NAME-cam<N>.png for each camera');
  addRenderOptions(cmd, { width: 1920, height: 1080 })
    .option('--cameras <list>', 'render several camera presets, e.g. 0,1,2 (instead of --camera)', parseCameras)
    .addHelpText('after', '\nExamples:\n  nnvis render net.nnvis -o net.png --camera 2 --class 3\n  nnvis render net.nnvis -o views.png --cameras 0,1,2 --width 1280 --height 720')
    .action(async (file: string, opts: RenderFlags & { output: string; cameras?: number[] }) => {
      if (opts.camera !== undefined && opts.cameras) throw new InputError('--camera and --cameras: give one or the other');
      requirePng(opts.output);
      const net = readNetworkFile(file);
      const cameras = opts.cameras ?? [opts.camera ?? 0];
      const settings = cameras.map((c) => renderSettings(opts, net.classNames.length, c, net.nodeImportance !== undefined));
      const outputs = opts.cameras ? cameras.map((c) => opts.output.replace(/(\.png)$/i, `-cam${c}$1`)) : [opts.output];
      for (const output of outputs) checkOutputFile(output, { inputs: [file], example: 'out.png' });

      const { withViewer } = await import('../browser.ts');
      await withViewer([file], opts.width, opts.height, async (viewer, [fileUrl]) => {
        await viewer.load(fileUrl, file);
        for (const [i, s] of settings.entries()) {
          console.error(`rendering ${basename(file)}: camera ${s.camera}, ${s.width}×${s.height} (${i + 1}/${settings.length})…`);
          const start = performance.now();
          const r = await viewer.render(s);
          writeFileAtomic(outputs[i], r.png);
          console.log(describeWrite(outputs[i], s.width, s.height, (performance.now() - start) / 1000, [r.frameMs]));
        }
      }, opts);
    });
}
