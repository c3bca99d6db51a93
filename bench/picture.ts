// `npm run bench:picture [-- FILE[@KIND]…]`: colour and framing statistics of our pictures
// beside the reference tool's (shared/reference/*.jpg), against the targets of
// bench/picture-stats.ts. Images (PNG or JPEG) are decoded in the headless browser's 2D
// canvas, so no image library is needed.
//
// KIND says which targets apply: `all` (class colours; the default), `independent` (grey),
// `N` (one class: its hue in the default palette), `ref` (a reference picture, no targets).
// Without files: the reference pictures, demo/mnist-784-81-49-10.png (npm start) and the
// README and docs pictures in docs/images.
//
//   --png DIR   also writes every picture as PNG to DIR (to look at the JPEGs)
//   --json      prints the statistics as JSON instead of a table

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { launchBrowser } from '../src/cli/browser.ts';
import { REPO_ROOT } from '../src/cli/options.ts';
import { paletteColors } from '../src/viewer/palette.ts';
import { decodeImage } from './decode-image.ts';
import { hexHue, missedTargets, pictureStats, type PictureStats } from './picture-stats.ts';

type Kind = 'all' | 'independent' | 'one-class' | 'reference';

interface Picture {
  path: string;
  kind: Kind;
  cls?: number;
}

const REFERENCE = process.env.NNVIS_REFERENCE ?? resolve(REPO_ROOT, '../shared/reference');

function defaults(): Picture[] {
  const refs = ['class_colored_bundles.jpg', 'processing_stages.jpg', 'untrained_trained_l1.jpg'].map((f): Picture => ({ path: join(REFERENCE, f), kind: 'reference' }));
  const img = (f: string) => join(REPO_ROOT, 'docs/images', f);
  const ours: Picture[] = [
    { path: join(REPO_ROOT, 'demo/mnist-784-81-49-10.png'), kind: 'all' },
    { path: img('hero.png'), kind: 'all' },
    { path: img('viewer-ellipsoid-all.png'), kind: 'all' },
    { path: img('viewer-axis-all.png'), kind: 'all' },
    { path: img('viewer-sphere.png'), kind: 'all' },
    { path: img('viewer-line.png'), kind: 'all' },
    { path: img('viewer-one-class.png'), kind: 'one-class', cls: 3 },
    { path: img('viewer-independent.png'), kind: 'independent' },
  ];
  return [...refs, ...ours].filter((p) => existsSync(p.path) || (console.error(`(skipped, not found: ${relative(process.cwd(), p.path)})`), false));
}

function parseArg(arg: string): Picture {
  const at = arg.lastIndexOf('@');
  const path = at > 0 ? arg.slice(0, at) : arg;
  const kind = at > 0 ? arg.slice(at + 1) : 'all';
  if (/^\d+$/.test(kind)) return { path, kind: 'one-class', cls: Number(kind) };
  if (kind === 'ref') return { path, kind: 'reference' };
  if (kind !== 'all' && kind !== 'independent') throw new Error(`${arg}: KIND must be all, independent, ref or a class index`);
  return { path, kind };
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const pngIndex = args.indexOf('--png');
const pngDir = pngIndex >= 0 ? args[pngIndex + 1] : null;
const files = args.filter((a, i) => !a.startsWith('--') && (pngIndex < 0 || i !== pngIndex + 1));
const pictures = files.length > 0 ? files.map(parseArg) : defaults();
const palette = paletteColors();

const browser = await launchBrowser();
const results: { picture: Picture; stats: PictureStats }[] = [];
try {
  const page = await browser.newPage();
  for (const picture of pictures) {
    const bytes = readFileSync(picture.path);
    const mime = /\.jpe?g$/i.test(picture.path) ? 'image/jpeg' : 'image/png';
    const decoded = await decodeImage(page, `data:${mime};base64,${bytes.toString('base64')}`, { png: pngDir !== null });
    const hue = picture.cls !== undefined ? hexHue(palette[picture.cls % palette.length]) : undefined;
    results.push({ picture, stats: pictureStats(decoded.rgba, decoded.width, decoded.height, { hue }) });
    if (pngDir) {
      mkdirSync(pngDir, { recursive: true });
      writeFileSync(join(pngDir, `${basename(picture.path, extname(picture.path))}.png`), Buffer.from(decoded.png!.slice(decoded.png!.indexOf(',') + 1), 'base64'));
    }
  }
} finally {
  await browser.close();
}

if (json) {
  console.log(JSON.stringify(results.map((r) => ({ file: relative(REPO_ROOT, r.picture.path), kind: r.picture.kind, ...r.stats })), null, 2));
} else {
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const rows = results.map(({ picture, stats: s }) => [
    relative(REPO_ROOT, picture.path).replace(/^\.\.\/shared\//, 'shared/'),
    picture.kind === 'one-class' ? `class ${picture.cls}` : picture.kind,
    `${s.width}×${s.height}`,
    pct(s.inkShare),
    s.saturation.toFixed(2),
    pct(s.saturatedShare),
    `${s.boxWidth.toFixed(2)} × ${s.boxHeight.toFixed(2)}`,
    pct(s.darkShare),
    s.hueShare !== undefined ? pct(s.hueShare) : '',
    picture.kind === 'reference' ? '' : missedTargets(s, picture.kind) || 'met',
  ]);
  const header = ['picture', 'kind', 'size', 'ink of frame', 'ink saturation', 'ink sat > 0.3', 'ink box w × h', 'dark ink', 'on class hue', 'targets'];
  console.log(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  console.log(
    '\nink: R+G+B < 735; saturation: HSV; dark ink: R+G+B < 460; on class hue: saturated ink within ±25° of the class colour.\n' +
      'targets (class colours): saturation ≥ 0.35, ≥ 40 % of the ink above 0.3, box ≥ 0.90 of the width or height; one class: ink ≥ 3 % of the frame, ≥ 90 % on hue.',
  );
}
