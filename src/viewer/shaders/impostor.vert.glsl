// A camera-facing quad around a sphere (or, with ELLIPSOID, an ellipsoid from this sample
// to the next, or to the end of a straight run of samples: fillDrawList) that the fragment shader ray-casts. Positions are carried in the
// primitive's unit-sphere space, where the ray test is a plain sphere intersection.
// VERTICES = 6: two triangles per instance.
const vec2 CORNERS[6] = vec2[6](vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(1.0, 1.0), vec2(-1.0, -1.0), vec2(1.0, 1.0), vec2(-1.0, 1.0));

flat out vec3 vLocalCam;
out vec3 vLocalPos;
out vec3 vWorld;
flat out vec3 vColor;
flat out float vImp;
flat out vec3 vAxis;
flat out vec2 vRadii; // semi-axis along vAxis, radius across it

// Affine map from world offsets (relative to the centre) to unit-sphere space.
vec3 toLocal(vec3 q, vec3 axis, float a, float r) {
  float along = dot(q, axis);
  return axis * (along / a) + (q - axis * along) / r;
}

void main() {
#ifdef BEADS
  // BEADS spheres per sample (edge sphere modes), bead = which of them.
  int next;
  int id = instanceOf(gl_VertexID / (6 * BEADS), next);
  int bead = (gl_VertexID / 6) % BEADS;
#else
  int next;
  int id = instanceOf(gl_VertexID / 6, next);
#endif
  if (skipped(id)) {
    gl_Position = CULLED;
    return;
  }
  float imp;
  vec3 color;
#ifdef ELLIPSOID
  vec3 pos = fetchInstance(id, true, imp, color);
#else
  vec3 pos = fetchInstance(id, false, imp, color);
#endif
  if (imp < uThreshold) {
    gl_Position = CULLED;
    return;
  }
  imp = drawnImportance(imp);
  vec2 corner = CORNERS[gl_VertexID % 6];
  float r = 0.5 * uSize * imp; // size = diameter at (drawn) importance 1
  vec3 c = pos;
#ifdef BEADS
  // Beads at most one radius apart from this sample toward the next (none past an edge's
  // last sample), so consecutive samples overlap into a tube.
  if (bead > 0) {
    vec4 here = texelFetch(uTexels, texelOf(id), 0);
    vec3 toNext = texelFetch(uTexels, texelOf(next), 0).xyz - pos;
    int beads = int(clamp(ceil(length(toNext) / max(r, 1e-6)), 1.0, float(BEADS)));
    if (here.w < 0.0 || bead >= beads) {
      gl_Position = CULLED;
      return;
    }
    c = pos + toNext * (float(bead) / float(beads));
  }
#endif
  vec3 axis = vec3(0.0, 0.0, 1.0);
  float a = r;
#ifdef ELLIPSOID
  vec3 d = texelFetch(uTexels, texelOf(next), 0).xyz - pos;
  float len = length(d);
  if (len > 1e-7) axis = d / len;
  c = pos + 0.5 * d;
  a = 0.5 * len + r; // overlap the neighbours so a polyline reads as one tube
#endif
  vec3 toC = c - cameraPosition;
  float dist = length(toC);
  float bound = max(a, r);
  if (dist <= bound * 1.01) {
    gl_Position = CULLED; // camera inside the primitive
    return;
  }
  vec3 view = toC / dist;
  vec3 side = cross(axis, view);
  float sideLen = length(side);
  side = sideLen > 1e-3 ? side / sideLen : normalize(cross(abs(view.y) < 0.9 ? vec3(0.0, 1.0, 0.0) : vec3(1.0, 0.0, 0.0), view));
  vec3 up = cross(view, side);
  float cu = dot(up, axis);
  // Projected half-extents of the ellipsoid, widened for perspective (exact for spheres).
  float extentUp = sqrt(a * a * cu * cu + r * r * max(0.0, 1.0 - cu * cu));
  float margin = dist / sqrt(dist * dist - bound * bound);
  vec3 world = c + (side * (r * corner.x) + up * (extentUp * corner.y)) * margin;

  vLocalCam = toLocal(cameraPosition - c, axis, a, r);
  vLocalPos = toLocal(world - c, axis, a, r);
  vWorld = world;
  vColor = color;
  vImp = imp;
  vAxis = axis;
  vRadii = vec2(a, r);
  gl_Position = projectionMatrix * viewMatrix * vec4(world, 1.0);
}
