import type { Browser, Page } from 'playwright-core';
import type { AntialiasRequest } from '../core/antialias.ts';
import { InputError } from '../core/errors.ts';
import { findBrowser, type BrowserChoice } from './browser-find.ts';
import { serveStatic } from './server.ts';
import { ensureViewerBuilt } from './viewer-build.ts';
import type { NnvisApi } from '../viewer/main.ts';
import type { ViewerStats } from '../viewer/viewer.ts';

// Headless rendering in Chromium (see browser-find.ts for which one), driven by
// playwright-core: no browser download, no GPU. SwiftShader gives WebGL2 on the CPU.

const ARGS = [
  '--no-sandbox', // CI containers run as root, where Chromium's sandbox cannot start
  '--disable-gpu',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--enable-unsafe-webgpu',
  // One long SwiftShader draw on a busy machine must not get the GPU process killed.
  '--disable-gpu-watchdog',
  // Nothing may reach the internet at run time.
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Starts the browser found by findBrowser; a failure to start is one line with what to do. */
export async function launchBrowser(choice: BrowserChoice = findBrowser()): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  try {
    return await chromium.launch({ executablePath: choice.executablePath, args: ARGS, env: { ...process.env, ...choice.env } as Record<string, string> });
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw new InputError(`${choice.executablePath}: the browser failed to start (${first}); set CHROMIUM_PATH to another Chrome or Chromium, or NNVIS_BROWSER=bundled`);
  }
}

/**
 * Runs `fn` with one viewer tab in one headless browser, the given files served beside the
 * viewer (`fileUrls[i]` is files[i]); everything is shut down afterwards, also on errors.
 */
export async function withViewer<T>(
  files: readonly string[],
  width: number,
  height: number,
  fn: (viewer: ViewerPage, fileUrls: string[]) => Promise<T>,
  options: { verbose?: boolean; antialias?: AntialiasRequest } = {},
): Promise<T> {
  const choice = findBrowser(); // before a possibly long viewer build
  if (options.verbose) console.error(`browser: ${choice.executablePath} (${choice.source})`);
  const root = await ensureViewerBuilt();
  const served = await serveStatic({ root, files });
  try {
    const browser = await launchBrowser(choice);
    try {
      const viewer = await ViewerPage.open(browser, served.url, width, height, options.antialias);
      if (options.verbose) {
        const { renderer, antialias } = await viewer.stats();
        console.error(`browser: Chromium ${viewer.browserVersion()}, WebGL: ${renderer}, antialiasing: ${antialias}`);
      }
      return await fn(viewer, served.filePaths.map((p) => new URL(p, served.url).href));
    } finally {
      await browser.close();
    }
  } finally {
    await served.close();
  }
}

/** The settings one render needs, already validated. */
export interface RenderSettings {
  width: number;
  height: number;
  camera: number;
  /** 'all', 'independent' or a class index. */
  classVisibility: 'all' | 'independent' | number;
  /** Flat rendering config (configs/rendering.json keys with dots). */
  rendering: Record<string, string | number | boolean>;
  /** Polyline simplification (default on; docs/PERFORMANCE.md#rendering). */
  simplify?: boolean;
}

export interface RenderResult {
  png: Buffer;
  /** Frame time the viewer measured (GPU work included, via readPixels); the PNG is of this frame. */
  frameMs: number;
}

/**
 * One viewer tab driven through its automation contract (`window.nnvis`). Page errors are
 * collected so a failure can say what the viewer complained about.
 */
export class ViewerPage {
  private readonly errors: string[] = [];
  private crashed = false;

  private constructor(private readonly page: Page) {
    page.on('pageerror', (err) => this.errors.push(err.message.split('\n')[0]));
    // A renderer or GPU process that dies (out of memory, killed) closes the page under us.
    page.on('crash', () => (this.crashed = true));
    page.context().browser()?.on('disconnected', () => (this.crashed = true));
  }

  /** "HeadlessChrome 147.0.7727.0"-like, for reports. */
  browserVersion(): string {
    return this.page.context().browser()?.version() ?? 'unknown browser';
  }

  static async open(browser: Browser, viewerUrl: string, width: number, height: number, antialias: AntialiasRequest = 'auto'): Promise<ViewerPage> {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
    const viewer = new ViewerPage(page);
    const url = new URL(viewerUrl);
    url.searchParams.set('headless', '1');
    url.searchParams.set('width', String(width));
    url.searchParams.set('height', String(height));
    url.searchParams.set('antialias', antialias);
    await page.goto(url.href);
    try {
      await page.waitForFunction(() => typeof (window as unknown as Partial<Automated>).nnvis === 'object', null, { timeout: 30_000 });
      await page.evaluate(() => (window as unknown as Automated).nnvis.ready);
    } catch (err) {
      throw viewer.failure('the viewer did not start', err);
    }
    return viewer;
  }

  /** Loads a file by URL; rejects with the viewer's one-line message, which names `label`. */
  async load(fileUrl: string, label: string): Promise<void> {
    try {
      await this.page.evaluate(([u, name]) => (window as unknown as Automated).nnvis.load(u, name), [fileUrl, label]);
    } catch (err) {
      throw this.closed(`loading ${label} failed`, err) ?? new InputError(errorText(err));
    }
  }

  /** Applies size, rendering config, class and camera (without animation). */
  async configure(s: RenderSettings): Promise<void> {
    try {
      await this.page.setViewportSize({ width: s.width, height: s.height });
      await this.page.evaluate((s) => {
        const v = (window as unknown as Automated).nnvis;
        v.setSize(s.width, s.height);
        v.setSimplify(s.simplify ?? true);
        v.setRendering(s.rendering);
        v.setClassVisibility(s.classVisibility);
        v.setCamera(s.camera, false);
      }, s);
    } catch (err) {
      throw this.failure('configuring the viewer failed', err);
    }
  }

  /** Renders one frame; the viewer's time for it in ms, GPU work included. */
  async frame(): Promise<number> {
    try {
      return await this.page.evaluate(() => (window as unknown as Automated).nnvis.frame());
    } catch (err) {
      throw this.failure('rendering failed', err);
    }
  }

  stats(): Promise<ViewerStats> {
    return this.page.evaluate(() => (window as unknown as Automated).nnvis.stats());
  }

  async render(s: RenderSettings): Promise<RenderResult> {
    await this.configure(s);
    const frameMs = await this.frame();
    try {
      const dataUrl = await this.page.evaluate(() => (window as unknown as Automated).nnvis.screenshot());
      return { png: Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'), frameMs };
    } catch (err) {
      throw this.failure('the screenshot failed', err);
    }
  }

  /**
   * Side-by-side composition of equally sized PNG panels, each with a label underneath,
   * drawn with the page's 2D canvas (no image library needed in Node).
   */
  async compose(panels: readonly Buffer[], labels: readonly string[], labelHeight: number): Promise<Buffer> {
    const urls = panels.map((p) => `data:image/png;base64,${p.toString('base64')}`);
    const dataUrl = await this.page.evaluate(
      async ({ urls, labels, labelHeight }) => {
        const images = await Promise.all(
          urls.map(async (u) => {
            const img = new Image();
            img.src = u;
            await img.decode();
            return img;
          }),
        );
        const w = images[0].naturalWidth;
        const h = images[0].naturalHeight;
        const canvas = document.createElement('canvas');
        canvas.width = w * images.length;
        canvas.height = h + labelHeight;
        const ctx = canvas.getContext('2d')!;
        ctx.fillStyle = '#ffffff';
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.fillStyle = '#202020';
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.font = `${Math.round(labelHeight * 0.5)}px "DejaVu Sans", sans-serif`;
        images.forEach((img, i) => {
          ctx.drawImage(img, i * w, 0);
          ctx.fillText(labels[i], i * w + w / 2, h + labelHeight / 2, w - 8);
        });
        return canvas.toDataURL('image/png');
      },
      { urls, labels, labelHeight },
    );
    return Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
  }

  /** The one-line error for a browser that died under us, or undefined if it is alive. */
  private closed(what: string, err: unknown): InputError | undefined {
    if (!this.crashed && !/has been closed|crashed/i.test(errorText(err))) return undefined;
    return new InputError(
      `${what}: the browser closed (crashed or ran out of memory); draw fewer samples (nnvis process --set sampling_rate=10 or --set prune_percentage=0.5) or a smaller --width/--height`,
    );
  }

  private failure(what: string, err: unknown): Error {
    const closed = this.closed(what, err);
    if (closed) return closed;
    const viewerError = this.errors[0];
    return new Error(`${what}: ${errorText(err)}${viewerError ? ` (viewer: ${viewerError})` : ''}`);
  }
}

/** The first line of a playwright error, without its "page.evaluate: Error: " prefixes. */
function errorText(err: unknown): string {
  return (err as Error).message
    .split('\n')[0]
    .replace(/^[\w.]+: /, '')
    .replace(/^(Error|InputError|TypeError): /, '');
}

/** How page functions reach the contract (no global Window augmentation: the viewer owns that). */
type Automated = { nnvis: NnvisApi };
