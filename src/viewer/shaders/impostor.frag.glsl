// Ray-casts the unit sphere of the primitive's local space. Transparent: the opacity of docs/METHOD.md §5.2
// with density = chord length / diameter. OPAQUE: Lambert + a little Blinn highlight.
uniform mat4 projectionMatrix;

flat in vec3 vLocalCam;
in vec3 vLocalPos;
in vec3 vWorld;
flat in vec3 vColor;
flat in float vImp;
flat in vec3 vAxis;
flat in vec2 vRadii;

void main() {
  vec3 o = vLocalCam;
  vec3 d = vLocalPos - vLocalCam; // ray parameter t = 1 at this fragment's quad point
  float A = dot(d, d);
  float B = dot(o, d);
  float disc = B * B - A * (dot(o, o) - 1.0);
  if (disc <= 0.0) discard;
  float root = sqrt(disc);
  float t0 = max((-B - root) / A, 0.0);
  float t1 = (-B + root) / A;
  // Affine maps keep ray parameters, so the local hit is also the world hit.
  vec3 hit = cameraPosition + t0 * (vWorld - cameraPosition);
#ifdef OPAQUE
  // Only opaque primitives write depth; writing gl_FragDepth turns off the early depth
  // test, which costs the transparent modes (no depth writes) for nothing.
  vec4 clip = projectionMatrix * viewMatrix * vec4(hit, 1.0);
  gl_FragDepth = clamp(0.5 * clip.z / clip.w + 0.5, 0.0, 1.0);
  vec3 nl = o + t0 * d;
  float along = dot(nl, vAxis);
  vec3 n = normalize(vAxis * (along / vRadii.x) + (nl - vAxis * along) / vRadii.y);
  vec3 v = normalize(cameraPosition - hit);
  vec3 l = normalize(v + vec3(-0.3, 0.5, 0.2));
  float diffuse = max(dot(n, l), 0.0);
  float spec = pow(max(dot(n, normalize(l + v)), 0.0), 48.0);
  fragColor = vec4(vColor * (0.35 + 0.65 * diffuse) + 0.25 * spec, 1.0);
#else
  float density = (t1 - t0) * sqrt(A) * 0.5;
  fragColor = preblend(vColor, opacity(vImp, relativeDepth(hit), density));
#endif
}
