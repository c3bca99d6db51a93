// How the picture is antialiased. Multisampling (MSAA) is free on a GPU but costs about 2.5×
// the whole frame on a software renderer (SwiftShader shades every sample), so there the
// picture is drawn aliased and smoothed once it is complete, by one FXAA pass over the canvas
// (docs/PERFORMANCE.md#antialiasing).

export const ANTIALIAS_MODES = ['auto', 'msaa', 'fxaa', 'none'] as const;
export type AntialiasRequest = (typeof ANTIALIAS_MODES)[number];
export type Antialias = Exclude<AntialiasRequest, 'auto'>;

export const ANTIALIAS_HELP = "'auto' (msaa on a GPU, fxaa on a software renderer such as SwiftShader), 'msaa' (4× multisampling), 'fxaa' (one smoothing pass over the finished picture) or 'none'";

export function isAntialiasRequest(v: string): v is AntialiasRequest {
  return (ANTIALIAS_MODES as readonly string[]).includes(v);
}

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/** 'auto' chooses by the WebGL renderer's name: multisampling on a GPU, FXAA in software. */
export function resolveAntialias(request: AntialiasRequest, rendererName: string): Antialias {
  if (request !== 'auto') return request;
  return SOFTWARE_RENDERER.test(rendererName) ? 'fxaa' : 'msaa';
}
