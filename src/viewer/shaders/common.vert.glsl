// Per-instance data and class logic shared by every primitive's vertex shader.
in vec3 iPos;
in float iImp;
in vec4 iMix0;
in vec4 iMix1;
in vec4 iMix2;

uniform vec3 uPalette[12];
uniform vec3 uGrey;
uniform int uClass; // -2 independent, -1 all classes, else the class channel shown
uniform float uSize;
uniform float uThreshold;
uniform int uLod; // draw every uLod-th instance (level of detail while the camera moves)
uniform vec2 uDepthRange; // camera distance of the network's nearest / farthest point

const vec4 CULLED = vec4(2.0, 2.0, 2.0, 1.0); // outside the clip volume: no fragments

float channel(int c) {
  vec4 m = c < 4 ? iMix0 : (c < 8 ? iMix1 : iMix2);
  return m[c % 4];
}

// Importance driving size, opacity and culling in the current class mode; sets the colour.
float instanceImportance(out vec3 color) {
  float total = dot(iMix0 + iMix1 + iMix2, vec4(1.0));
  if (uClass == -2 || total <= 0.0) {
    color = uGrey;
    return iImp;
  }
  if (uClass == -1) {
    // The mix is a unit vector: its squared components are the class shares, which keeps
    // a dominant class's hue instead of averaging every class toward brown.
    vec3 c = vec3(0.0);
    float shares = 0.0;
    for (int k = 0; k < 12; k++) {
      float m = channel(k);
      c += uPalette[k] * m * m;
      shares += m * m;
    }
    color = c / shares;
    return iImp;
  }
  color = uPalette[uClass];
  return iImp * channel(uClass);
}

bool culled(float imp) {
  return imp < uThreshold || uSize <= 0.0 || (uLod > 1 && gl_InstanceID % uLod != 0);
}

float relativeDepth(vec3 world) {
  return clamp((uDepthRange.y - distance(world, cameraPosition)) / max(1e-6, uDepthRange.y - uDepthRange.x), 0.0, 1.0);
}
