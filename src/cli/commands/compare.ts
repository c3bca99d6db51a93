import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../../core/errors.ts';
import { checkOutputFile, writeFileAtomic } from '../fs.ts';
import { readNetworkFile } from '../network-file.ts';
import { addRenderOptions, describeWrite, renderSettings, requirePng, type RenderFlags } from './render.ts';

export function registerCompare(program: Command): void {
  const cmd = program
    .command('compare')
    .description('render several .nnvis files with the same camera and settings, side by side with a label under each')
    .argument('<files...>', 'two or more .nnvis files')
    .requiredOption('-o, --output <file>', 'output .png')
    .option('--labels <list>', 'comma-separated label per file (default: the file names)');
  addRenderOptions(cmd, { width: 960, height: 720 })
    .addHelpText('after', '\n--width / --height are per panel; the image is (files × width) wide.\n\nExample:\n  nnvis compare untrained.nnvis trained.nnvis l1.nnvis --labels "untrained,trained,L1" --class 3 -o compare.png')
    .action(async (files: string[], opts: RenderFlags & { output: string; labels?: string }) => {
      if (files.length < 2) throw new InputError(`compare needs at least two .nnvis files; got ${files.length}`);
      requirePng(opts.output);
      checkOutputFile(opts.output, { inputs: files, example: 'out.png' });
      const labels = opts.labels !== undefined ? opts.labels.split(',').map((l) => l.trim()) : files.map((f) => basename(f, extname(f)));
      if (labels.length !== files.length) {
        throw new InputError(`--labels: ${labels.length} labels for ${files.length} files; give one per file, separated by commas`);
      }
      const nets = files.map((f) => readNetworkFile(f));
      const settings = renderSettings(opts, Math.min(...nets.map((n) => n.classNames.length)), opts.camera ?? 0, nets.some((n) => n.nodeImportance !== undefined));
      // Labels are a fixed share of the panel, so they stay readable at any size.
      const labelHeight = Math.max(16, Math.round(opts.height * 0.08));

      const { withViewer } = await import('../browser.ts');
      const start = performance.now();
      const { png, frameMs } = await withViewer(files, opts.width, opts.height, async (viewer, fileUrls) => {
        const panels: Buffer[] = [];
        const frameMs: number[] = [];
        for (const [i, file] of files.entries()) {
          console.error(`rendering ${basename(file)} (${i + 1}/${files.length})…`);
          await viewer.load(fileUrls[i], file);
          const r = await viewer.render(settings);
          panels.push(r.png);
          frameMs.push(r.frameMs);
        }
        return { png: await viewer.compose(panels, labels, labelHeight), frameMs };
      }, opts);
      writeFileAtomic(opts.output, png);
      console.log(describeWrite(opts.output, opts.width * files.length, opts.height + labelHeight, (performance.now() - start) / 1000, frameMs));
    });
}
