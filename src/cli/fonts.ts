import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageDir } from './packages.ts';

// Text in plots and composed pictures is set in DejaVu from the npm package dejavu-fonts-ttf,
// never system fonts: the same pixels on every machine, and nothing to install.

export const FONT_FAMILY = 'DejaVu Sans';

/** The folder of DejaVu .ttf files. */
export function fontDir(): string {
  const pkg = packageDir('dejavu-fonts-ttf');
  const dir = pkg && join(pkg, 'ttf');
  if (!dir || !existsSync(dir)) throw new Error('the npm package dejavu-fonts-ttf is missing; run npm install');
  return dir;
}

/** The DejaVu Sans faces (regular, bold, oblique) that plots use. */
export function fontFiles(): string[] {
  const dir = fontDir();
  return readdirSync(dir)
    .filter((f) => /^DejaVuSans(-Bold|-Oblique|-BoldOblique)?\.ttf$/.test(f))
    .map((f) => join(dir, f));
}
