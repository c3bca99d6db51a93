// Opacity and the pre-blend toward white that makes MIN blending order-independent (docs/METHOD.md §5.2).
uniform float uBase;
uniform float uImportanceOpacity;
uniform float uDepthOpacity;
uniform float uDepthExponent;

out vec4 fragColor;

float opacity(float importance, float relDepth, float density) {
  float a = clamp((1.0 - uImportanceOpacity) + uImportanceOpacity * importance, 0.0, 1.0)
    * ((1.0 - uDepthOpacity) + uDepthOpacity * relDepth)
    * pow(clamp(density, 0.0, 1.0), uDepthExponent);
  return clamp(a * (1.0 - uBase) + uBase, 0.0, 1.0);
}

vec4 preblend(vec3 color, float a) {
  return vec4(color * a + (1.0 - a), a);
}

uniform vec2 uDepthRange; // camera distance of the network's nearest / farthest point

// 1 at the nearest point of the network, 0 at the farthest.
float relativeDepth(vec3 world) {
  return clamp((uDepthRange.y - distance(world, cameraPosition)) / max(1e-6, uDepthRange.y - uDepthRange.x), 0.0, 1.0);
}
