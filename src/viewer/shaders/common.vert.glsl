// Instance fetch and culling shared by every primitive's vertex shader. Nothing is
// instanced (SwiftShader runs each instance of an instanced draw as a draw of its own):
// vertex gl_VertexID belongs to vertex block b = gl_VertexID / VERTICES, i.e. entry
// (⌊b / uRun⌋ · uStride + uPhase) · uRun + b mod uRun of the draw list: every uStride-th run of
// uRun consecutive entries, from run uPhase (the level of detail and the passes of progressive
// drawing, without running culled vertices). Runs keep neighbouring entries, which lie close in
// memory and on screen, in one draw: striding single entries made each pass ~20 % slower.
// Entries from uEntries on draw nothing (the last run may be short):
//   uList (RG32F): the instance and the sample its primitive runs to (the next one, or a
//   later one of a straight run, see fillDrawList), culled and simplified on the CPU.
// The instances' data are texels of two data textures TEXTURE_WIDTH (= 1 << TEXTURE_SHIFT) wide:
//   uTexels (RGBA32F): position, and w = importance, or −1 − importance at an edge's end;
//   uColors (RGBA8): colour of the current class visibility, alpha = the class's share
//   (1 unless one class is shown), both computed on the CPU when the class mode changes.
uniform highp sampler2D uList;
uniform highp sampler2D uTexels;
uniform lowp sampler2D uColors;

uniform float uSize;
uniform float uThreshold;
uniform int uStride;
uniform int uPhase;
uniform int uRun;
uniform int uEntries;
uniform vec2 uDepthRange; // camera distance of the network's nearest / farthest point
uniform float uImportanceScale; // 1 / the importance drawn fully opaque and at full size

// Importance as size and opacity use it: relative to the network's own distribution
// (OPACITY_PERCENTILE of the drawn instances → 1), at most 1. The threshold sees the raw value.
float drawnImportance(float imp) {
  return min(1.0, imp * uImportanceScale);
}

const vec4 CULLED = vec4(2.0, 2.0, 2.0, 1.0); // outside the clip volume: no fragments

ivec2 texelOf(int i) {
  return ivec2(i & (TEXTURE_WIDTH - 1), i >> TEXTURE_SHIFT);
}

// The instance of a vertex block (−1: past the draw list's end), and the sample its primitive runs to.
int instanceOf(int block, out int next) {
  int entry = ((block / uRun) * uStride + uPhase) * uRun + block % uRun;
  next = 0;
  if (entry >= uEntries) return -1;
  vec2 e = texelFetch(uList, ivec2(entry & (TEXTURE_WIDTH - 1), entry >> TEXTURE_SHIFT), 0).xy;
  next = int(e.y);
  return int(e.x);
}

// Whether instance `id` is skipped before any fetch (past the list's end, or zero size).
bool skipped(int id) {
  return id < 0 || uSize <= 0.0;
}

// Position, importance in the current class mode (< 0 at an edge end when `ends` — the
// caller culls below uThreshold) and colour of instance `id`.
vec3 fetchInstance(int id, bool ends, out float imp, out vec3 color) {
  ivec2 at = texelOf(id);
  vec4 t = texelFetch(uTexels, at, 0);
  if (t.w < 0.0) imp = ends ? -1.0 : -1.0 - t.w;
  else imp = t.w;
  vec4 c = texelFetch(uColors, at, 0);
  imp *= c.a;
  color = c.rgb;
  return t.xyz;
}

float relativeDepth(vec3 world) {
  return clamp((uDepthRange.y - distance(world, cameraPosition)) / max(1e-6, uDepthRange.y - uDepthRange.x), 0.0, 1.0);
}
