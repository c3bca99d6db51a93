// Decodes an image (PNG or JPEG data URL) in a browser page's 2D canvas, so neither the
// benchmarks nor the tests need an image library.
import type { Page } from 'playwright-core';

export interface DecodedImage {
  width: number;
  height: number;
  /** RGBA, row by row; transparent pixels count as the white background. */
  rgba: Buffer;
  /** The image re-encoded as a PNG data URL, when asked for. */
  png?: string;
}

export async function decodeImage(page: Page, dataUrl: string, options: { png?: boolean } = {}): Promise<DecodedImage> {
  const d = await page.evaluate(async ([url, png]) => {
    const img = new Image();
    img.src = url;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext('2d')!;
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, c.width, c.height).data;
    let bin = '';
    for (let i = 0; i < data.length; i += 0x8000) bin += String.fromCharCode(...data.subarray(i, i + 0x8000));
    return { width: c.width, height: c.height, rgba: btoa(bin), png: png ? c.toDataURL('image/png') : undefined };
  }, [dataUrl, options.png ?? false] as const);
  return { width: d.width, height: d.height, rgba: Buffer.from(d.rgba, 'base64'), png: d.png };
}
