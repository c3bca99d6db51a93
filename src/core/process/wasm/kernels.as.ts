// AssemblyScript: the WebAssembly backend of the engine's hottest kernels. `npm run
// build:wasm` compiles it into kernels-wasm.ts; module.ts loads it, advect.ts and polyline.ts
// lay out each call's buffers in its memory (all pointers here are byte offsets into it).
// One edge advection step (docs/METHOD.md §4.6) — class mixes of the samples, trilinear splat,
// separable convolution, |ρ|, advection gradient and move — keeps the class channels in
// SIMD lanes: C, the channel count the functions take, is padded to a multiple of 4 (with
// a spare channel for the density norm). The arithmetic of a cell or a sample does not
// depend on the range a call covers, so results are the same for any number of threads.

// ---------- class mix of one sample (the JS reference: sample-importance.ts, sampleMix) ----------

/**
 * Writes the class mix of the sample at fraction f along edge (s → t) to `out`; returns its
 * overall weight. Node tables and `out` hold C channels padded with zeros to a multiple of 4.
 */
@inline
function sampleMix(type: i32, C: i32, nodeMix: usize, nodeOverall: usize, raw: usize, rawNorm: f32, s: u32, t: u32, alpha: f32, f: f32, out: usize): f32 {
  const cs = <usize>C << 2;
  if (type == 1 || type == 3) {
    const n = type == 1 ? s : t;
    memory.copy(out, nodeMix + <usize>n * cs, cs);
    return load<f32>(nodeOverall + (<usize>n << 2)) * alpha;
  }
  const interpolate = type == 0 || raw == 0;
  const a = (interpolate ? nodeMix : raw) + <usize>s * cs;
  const b = (interpolate ? nodeMix : raw) + <usize>t * cs;
  const wa = f32x4.splat(interpolate ? <f32>1 - f : 1);
  const wb = f32x4.splat(interpolate ? f : 1);
  let sq = f32x4.splat(0);
  for (let c: usize = 0; c < cs; c += 16) {
    const v = f32x4.add(f32x4.mul(wa, v128.load(a + c)), f32x4.mul(wb, v128.load(b + c)));
    v128.store(out + c, v);
    sq = f32x4.add(sq, f32x4.mul(v, v));
  }
  const len = Mathf.sqrt(f32x4.extract_lane(sq, 0) + f32x4.extract_lane(sq, 1) + f32x4.extract_lane(sq, 2) + f32x4.extract_lane(sq, 3));
  if (len > 0) {
    const inv = f32x4.splat(<f32>1 / len);
    for (let c: usize = 0; c < cs; c += 16) v128.store(out + c, f32x4.mul(v128.load(out + c), inv));
  }
  if (interpolate) return ((<f32>1 - f) * load<f32>(nodeOverall + (<usize>s << 2)) + f * load<f32>(nodeOverall + (<usize>t << 2))) * alpha;
  return len * rawNorm * alpha;
}

/** The sum of a vector's four lanes. */
@inline
function sum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// ---------- the density box: rows y ∈ [ly0, ly0 + lny) of the gap's box, every x and z ----------

/**
 * Trilinear splat of every sample whose corners reach rows [ly0, ly0 + lny) (see density.ts,
 * splatKernel), widening the x span of each row it touches. Samples are taken in order, so
 * each cell sums its contributions in the same order whatever rows a call covers.
 */
export function splat(
  nPoly: i32, offsets: usize, base: u32, points: usize, src: usize, tgt: usize, alpha: usize,
  type: i32, C: i32, nodeMix: usize, nodeOverall: usize, raw: usize, rawNorm: f32,
  ox: f64, oy: f64, oz: f64, cell: f64, nx: i32, lny: i32, ly0: i32,
  bins: usize, spanLo: usize, spanHi: usize, mix: usize, share: i32,
): void {
  const cs = <usize>C << 2;
  for (let i = 0; i < nPoly; i++) {
    const start = load<u32>(offsets + (<usize>i << 2)) - base;
    const m = load<u32>(offsets + (<usize>(i + 1) << 2)) - base - start;
    const s = load<u32>(src + (<usize>i << 2));
    const t = load<u32>(tgt + (<usize>i << 2));
    const a = load<f32>(alpha + (<usize>i << 2));
    const inv: f32 = <f32>1 / <f32>(m - 1);
    for (let j: u32 = 0; j < m; j++) {
      const p = points + <usize>(start + j) * 12;
      const gy = (<f64>load<f32>(p, 4) - oy) / cell - 0.5;
      const iy = <i32>Math.floor(gy) - ly0;
      if (iy + 1 < 0 || iy >= lny) continue;
      // share: the class share alone, whatever the sample's importance (state.ts, gapDensity)
      const importance = sampleMix(type, C, nodeMix, nodeOverall, raw, rawNorm, s, t, a, <f32>j * inv, mix);
      const weight = share ? <f32>1 : importance;
      if (weight == 0) continue;
      const gx = (<f64>load<f32>(p) - ox) / cell - 0.5;
      const gz = (<f64>load<f32>(p, 8) - oz) / cell - 0.5;
      const ix = <i32>Math.floor(gx);
      const iz = <i32>Math.floor(gz);
      const fx = <f32>(gx - ix);
      const fy = <f32>(gy - (iy + ly0));
      const fz = <f32>(gz - iz);
      // The 4 rows (z, y) of the 8 corners; a row outside the box gets weight 0 and the
      // offset of its valid y neighbour, so the channel loop below needs no branches.
      const yIn0 = iy >= 0;
      const yIn1 = iy + 1 < lny;
      const y0r = yIn0 ? iy : iy + 1;
      const y1r = yIn1 ? iy + 1 : iy;
      const wy0: f32 = yIn0 ? <f32>1 - fy : 0;
      const wy1: f32 = yIn1 ? fy : 0;
      const rows0 = iz * lny;
      const rows1 = rows0 + lny;
      if (yIn0) widen(spanLo, spanHi, rows0 + iy, ix);
      if (yIn1) widen(spanLo, spanHi, rows0 + iy + 1, ix);
      if (yIn0) widen(spanLo, spanHi, rows1 + iy, ix);
      if (yIn1) widen(spanLo, spanHi, rows1 + iy + 1, ix);
      const o00 = bins + <usize>((rows0 + y0r) * nx + ix) * cs;
      const o01 = bins + <usize>((rows0 + y1r) * nx + ix) * cs;
      const o10 = bins + <usize>((rows1 + y0r) * nx + ix) * cs;
      const o11 = bins + <usize>((rows1 + y1r) * nx + ix) * cs;
      const wz0 = weight * (<f32>1 - fz);
      const wz1 = weight * fz;
      const wx0: f32 = <f32>1 - fx;
      const w000 = f32x4.splat(wz0 * wy0 * wx0);
      const w001 = f32x4.splat(wz0 * wy0 * fx);
      const w010 = f32x4.splat(wz0 * wy1 * wx0);
      const w011 = f32x4.splat(wz0 * wy1 * fx);
      const w100 = f32x4.splat(wz1 * wy0 * wx0);
      const w101 = f32x4.splat(wz1 * wy0 * fx);
      const w110 = f32x4.splat(wz1 * wy1 * wx0);
      const w111 = f32x4.splat(wz1 * wy1 * fx);
      for (let c: usize = 0; c < cs; c += 16) {
        const m = v128.load(mix + c);
        accumulate(o00 + c, w000, m);
        accumulate(o00 + cs + c, w001, m);
        accumulate(o01 + c, w010, m);
        accumulate(o01 + cs + c, w011, m);
        accumulate(o10 + c, w100, m);
        accumulate(o10 + cs + c, w101, m);
        accumulate(o11 + c, w110, m);
        accumulate(o11 + cs + c, w111, m);
      }
    }
  }
}

@inline
function accumulate(at: usize, w: v128, m: v128): void {
  v128.store(at, f32x4.add(v128.load(at), f32x4.mul(w, m)));
}

/** Widens the x span of `row` to cover cells ix and ix + 1. */
@inline
function widen(spanLo: usize, spanHi: usize, row: i32, ix: i32): void {
  const lo = spanLo + (<usize>row << 2);
  const hi = spanHi + (<usize>row << 2);
  if (ix < load<i32>(lo)) store<i32>(lo, ix);
  if (ix + 1 > load<i32>(hi)) store<i32>(hi, ix + 1);
}

/** The spans a convolution pass along `axis` can fill (density.ts, passSpans). */
export function passSpans(loIn: usize, hiIn: usize, loOut: usize, hiOut: usize, nx: i32, ny: i32, nz: i32, axis: i32, reach: i32): void {
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const r = z * ny + y;
      const ro = <usize>r << 2;
      let lo: i32 = 1 << 30;
      let hi: i32 = -1;
      if (axis == 0) {
        const a = load<i32>(loIn + ro);
        const b = load<i32>(hiIn + ro);
        if (a <= b) {
          lo = max(reach, a - reach);
          hi = min(nx - reach - 1, b + reach);
        }
      } else {
        const pos = axis == 1 ? y : z;
        const n = axis == 1 ? ny : nz;
        if (pos >= reach && pos < n - reach) {
          for (let d = -reach; d <= reach; d++) {
            const q = <usize>(axis == 1 ? r + d : r + d * ny) << 2;
            lo = min(lo, load<i32>(loIn + q));
            hi = max(hi, load<i32>(hiIn + q));
          }
        }
      }
      store<i32>(loOut + ro, lo);
      store<i32>(hiOut + ro, hi);
    }
  }
}

/**
 * out = input convolved with the taps along one axis, over the given spans (density.ts,
 * convolveKernel). Writes the span cells only: `out` must be zero elsewhere.
 */
export function convolve(input: usize, out: usize, nx: i32, ny: i32, nz: i32, axis: i32, k: usize, taps: i32, C: i32, lo: usize, hi: usize): void {
  const cs = <usize>C << 2;
  const reach = (taps - 1) / 2;
  const stride = <isize>(axis == 0 ? 1 : axis == 1 ? nx : nx * ny) * <isize>cs;
  for (let r = 0; r < ny * nz; r++) {
    const x1 = load<i32>(hi + (<usize>r << 2));
    for (let x = load<i32>(lo + (<usize>r << 2)); x <= x1; x++) {
      const o = out + <usize>(r * nx + x) * cs;
      const first = <usize>(<isize>(input + <usize>(r * nx + x) * cs) - <isize>reach * stride);
      for (let c: usize = 0; c < cs; c += 16) {
        let acc = f32x4.splat(0);
        let i = first + c;
        for (let j = 0; j < taps; j++, i += stride) acc = f32x4.add(acc, f32x4.mul(f32x4.splat(load<f32>(k + (<usize>j << 2))), v128.load(i)));
        v128.store(o + c, acc);
      }
    }
  }
}

/**
 * |ρ| of every span cell, into channel `normAt` — a padding channel, which the sample mixes
 * (zero there) ignore and which sits in the cell's cache line.
 */
export function norm(values: usize, nx: i32, rows: i32, C: i32, normAt: i32, lo: usize, hi: usize): void {
  const cs = <usize>C << 2;
  for (let r = 0; r < rows; r++) {
    const b = load<i32>(hi + (<usize>r << 2));
    for (let x = load<i32>(lo + (<usize>r << 2)); x <= b; x++) {
      const v = values + <usize>(r * nx + x) * cs;
      let q = f32x4.splat(0);
      for (let c: usize = 0; c < cs; c += 16) {
        const w = v128.load(v + c);
        q = f32x4.add(q, f32x4.mul(w, w));
      }
      store<f32>(v + (<usize>normAt << 2), Mathf.sqrt(sum(q)));
    }
  }
}

/** Zeroes the span cells of every row: what a pass wrote, so the box is all zero again without clearing it whole. */
export function clearSpans(buf: usize, nx: i32, rows: i32, C: i32, lo: usize, hi: usize): void {
  const cs = <usize>C << 2;
  for (let r = 0; r < rows; r++) {
    const a = load<i32>(lo + (<usize>r << 2));
    const b = load<i32>(hi + (<usize>r << 2));
    if (a <= b) memory.fill(buf + <usize>(r * nx + a) * cs, 0, <usize>(b - a + 1) * cs);
  }
}

/**
 * Advection of the samples whose cell row lies in [y0, y1) (global rows; the box holds
 * rows from ly0 on): inner samples take a step of h along the gradient (docs/METHOD.md §4.6) of
 * Σ u_c·ρ_c − s·|ρ| (density.ts, gradientsKernel; h < 0: away), clamped to [clampLo,
 * clampHi]. Writes the index (base-relative) and new position of every sample it owns —
 * end points unchanged — to outIdx and outPos; returns how many.
 */
export function move(
  nPoly: i32, offsets: usize, base: u32, points: usize, src: usize, tgt: usize, alpha: usize,
  type: i32, C: i32, nodeMix: usize, nodeOverall: usize, raw: usize, rawNorm: f32,
  ox: f64, oy: f64, oz: f64, cell: f64, nx: i32, lny: i32, ly0: i32, y0: i32, y1: i32,
  values: usize, normAt: i32, s: f32, h: f64,
  loX: f64, loY: f64, loZ: f64, hiX: f64, hiY: f64, hiZ: f64,
  mix: usize, outIdx: usize, outPos: usize,
): i32 {
  const cs = <usize>C << 2;
  const plane = nx * lny;
  let count = 0;
  for (let i = 0; i < nPoly; i++) {
    const start = load<u32>(offsets + (<usize>i << 2)) - base;
    const m = load<u32>(offsets + (<usize>(i + 1) << 2)) - base - start;
    const sn = load<u32>(src + (<usize>i << 2));
    const tn = load<u32>(tgt + (<usize>i << 2));
    const a = load<f32>(alpha + (<usize>i << 2));
    const inv: f32 = <f32>1 / <f32>(m - 1);
    for (let j: u32 = 0; j < m; j++) {
      const p = points + <usize>(start + j) * 12;
      const px = <f64>load<f32>(p);
      const py = <f64>load<f32>(p, 4);
      const pz = <f64>load<f32>(p, 8);
      const gy = (py - oy) / cell;
      const iyGlobal = <i32>Math.floor(gy);
      if (iyGlobal < y0 || iyGlobal >= y1) continue;
      store<u32>(outIdx + (<usize>count << 2), start + j);
      const o = outPos + <usize>count * 12;
      count++;
      // End points stay; so does a sample on flat potential.
      memory.copy(o, p, 12);
      if (j == 0 || j == m - 1) continue;
      sampleMix(type, C, nodeMix, nodeOverall, raw, rawNorm, sn, tn, a, <f32>j * inv, mix);
      const gx = (px - ox) / cell;
      const gz = (pz - oz) / cell;
      const ix = <i32>Math.floor(gx);
      const iz = <i32>Math.floor(gz);
      const iy = iyGlobal - ly0;
      const here = iz * plane + iy * nx + ix;
      const sx = gx - ix >= 0.5 ? 1 : -1;
      const sy = gy - iyGlobal >= 0.5 ? 1 : -1;
      const sz = gz - iz >= 0.5 ? 1 : -1;
      const cx = here + sx;
      const cy = here + sy * nx;
      const cz = here + sz * plane;
      // Σ u_c·ρ_c at the sample's cell and its three neighbours, in one pass over the
      // channels; |ρ| is stored in channel `normAt` of each cell (see norm).
      const o0 = values + <usize>here * cs;
      const o1 = values + <usize>cx * cs;
      const o2 = values + <usize>cy * cs;
      const o3 = values + <usize>cz * cs;
      let a0 = f32x4.splat(0);
      let a1 = f32x4.splat(0);
      let a2 = f32x4.splat(0);
      let a3 = f32x4.splat(0);
      for (let c: usize = 0; c < cs; c += 16) {
        const u = v128.load(mix + c);
        a0 = f32x4.add(a0, f32x4.mul(u, v128.load(o0 + c)));
        a1 = f32x4.add(a1, f32x4.mul(u, v128.load(o1 + c)));
        a2 = f32x4.add(a2, f32x4.mul(u, v128.load(o2 + c)));
        a3 = f32x4.add(a3, f32x4.mul(u, v128.load(o3 + c)));
      }
      const n = <usize>normAt << 2;
      const v0 = sum(a0) - s * load<f32>(o0 + n);
      const dx = <f64>(<f32>sx * (sum(a1) - s * load<f32>(o1 + n) - v0));
      const dy = <f64>(<f32>sy * (sum(a2) - s * load<f32>(o2 + n) - v0));
      const dz = <f64>(<f32>sz * (sum(a3) - s * load<f32>(o3 + n) - v0));
      const len = Math.sqrt(dx * dx + dy * dy + dz * dz);
      if (len == 0) continue;
      const step = h / len;
      store<f32>(o, <f32>min(max(px + step * dx, loX), hiX));
      store<f32>(o, <f32>min(max(py + step * dy, loY), hiY), 4);
      store<f32>(o, <f32>min(max(pz + step * dz, loZ), hiZ), 8);
    }
  }
  return count;
}

// ---------- Laplacian smoothing (the JS reference: polyline.ts, smoothKernel) ----------

/**
 * Smooths each polyline `passes` times (Jacobi: each pass reads the previous one): every
 * inner point becomes the mean of the points within r = max(1, ⌊m · 8 · ratio / 100⌋)
 * steps along its polyline, itself included. Points are 3 floats; the scratch buffers
 * `a` and `b` hold one vector per point of the longest polyline.
 */
export function smooth(nPoly: i32, offsets: usize, base: u32, points: usize, out: usize, passes: i32, ratio: f64, a: usize, b: usize): void {
  for (let i = 0; i < nPoly; i++) {
    const start = load<u32>(offsets + (<usize>i << 2)) - base;
    const m = <i32>(load<u32>(offsets + (<usize>(i + 1) << 2)) - base - start);
    smoothOne(points + <usize>start * 12, out + <usize>start * 12, m, passes, ratio, a, b);
  }
}

/** Smooths the m points at `src` into `dst` (which may be `src`). */
function smoothOne(src: usize, dst: usize, m: i32, passes: i32, ratio: f64, a: usize, b: usize): void {
  if (dst != src) memory.copy(dst, src, <usize>m * 12);
  if (m < 3) return;
  const r = max(1, <i32>Math.floor((<f64>m * 8 * ratio) / 100));
  // Vector p holds point p (x, y, z and the next point's x, never stored).
  for (let p = 0; p < m; p++) v128.store(a + (<usize>p << 4), v128.load(src + <usize>p * 12));
  v128.store(b, v128.load(a));
  v128.store(b + (<usize>(m - 1) << 4), v128.load(a + (<usize>(m - 1) << 4)));
  let from = a;
  let to = b;
  const third = f32x4.splat(<f32>1 / <f32>3);
  for (let pass = 0; pass < passes; pass++) {
    if (r == 1) {
      // The usual case late in a run: every inner point has its whole window; same sums as below.
      for (let p = 1; p < m - 1; p++) {
        const q = from + (<usize>(p - 1) << 4);
        v128.store(to + (<usize>p << 4), f32x4.mul(f32x4.add(f32x4.add(v128.load(q), v128.load(q, 16)), v128.load(q, 32)), third));
      }
    } else {
      for (let p = 1; p < m - 1; p++) {
        const lo = max(0, p - r);
        const hi = min(m - 1, p + r);
        let acc = f32x4.splat(0);
        for (let q = lo; q <= hi; q++) acc = f32x4.add(acc, v128.load(from + (<usize>q << 4)));
        v128.store(to + (<usize>p << 4), f32x4.mul(acc, f32x4.splat(<f32>1 / <f32>(hi - lo + 1))));
      }
    }
    const t = from;
    from = to;
    to = t;
  }
  for (let p = 1; p < m - 1; p++) {
    const v = v128.load(from + (<usize>p << 4));
    const o = dst + <usize>p * 12;
    store<f32>(o, f32x4.extract_lane(v, 0));
    store<f32>(o, f32x4.extract_lane(v, 1), 4);
    store<f32>(o, f32x4.extract_lane(v, 2), 8);
  }
}

// ---------- re-sampling (the JS reference: polyline.ts; same f64 arithmetic, same results) ----------

@inline
function distance(p: usize, i: u32): f64 {
  const a = p + <usize>i * 12;
  const dx = <f64>load<f32>(a, 12) - <f64>load<f32>(a);
  const dy = <f64>load<f32>(a, 16) - <f64>load<f32>(a, 4);
  const dz = <f64>load<f32>(a, 20) - <f64>load<f32>(a, 8);
  return Math.sqrt(dx * dx + dy * dy + dz * dz);
}

/** Points of each polyline re-sampled at `spacing`: pieces of `spacing`, plus the rest when it is at least half of one; at most maxPoints. */
export function polylineCounts(nPoly: i32, offsets: usize, base: u32, points: usize, spacing: f64, maxPoints: u32, counts: usize): void {
  for (let i = 0; i < nPoly; i++) {
    const start = load<u32>(offsets + (<usize>i << 2)) - base;
    const end = load<u32>(offsets + (<usize>(i + 1) << 2)) - base;
    let length: f64 = 0;
    for (let a = start; a + 1 < end; a++) length += distance(points, a);
    const whole = Math.floor(length / spacing);
    const rest = length - whole * spacing;
    const pieces = max(1, rest >= spacing / 2 || whole == 0 ? whole + 1 : whole);
    store<u32>(counts + (<usize>i << 2), min(maxPoints, <u32>pieces + 1));
  }
}

/**
 * Re-samples each polyline at arc-length `spacing` from its start into its slot of `out`
 * (polyline.ts, walk), then smooths it there `passes` times (as `smooth`; 0: not at all).
 */
export function resample(nPoly: i32, offsets: usize, base: u32, points: usize, spacing: f64, outOffsets: usize, outBase: u32, out: usize, passes: i32, ratio: f64, sa: usize, sb: usize): void {
  for (let i = 0; i < nPoly; i++) {
    const start = load<u32>(offsets + (<usize>i << 2)) - base;
    const end = load<u32>(offsets + (<usize>(i + 1) << 2)) - base;
    const at = load<u32>(outOffsets + (<usize>i << 2)) - outBase;
    const count = load<u32>(outOffsets + (<usize>(i + 1) << 2)) - outBase - at;
    memory.copy(out + <usize>at * 12, points + <usize>start * 12, 12);
    let seg = start;
    let segStart: f64 = 0;
    let segLen = distance(points, seg);
    for (let k: u32 = 1; k + 1 < count; k++) {
      const target = <f64>k * spacing;
      while (segStart + segLen < target && seg + 2 < end) {
        segStart += segLen;
        seg++;
        segLen = distance(points, seg);
      }
      const t = segLen > 0 ? min(1, (target - segStart) / segLen) : 0;
      const a = points + <usize>seg * 12;
      const o = out + <usize>(at + k) * 12;
      for (let d: usize = 0; d < 12; d += 4) {
        const v = <f64>load<f32>(a + d);
        store<f32>(o + d, <f32>(v + t * (<f64>load<f32>(a + d + 12) - v)));
      }
    }
    memory.copy(out + <usize>(at + count - 1) * 12, points + <usize>(end - 1) * 12, 12);
    if (passes > 0) smoothOne(out + <usize>at * 12, out + <usize>at * 12, <i32>count, passes, ratio, sa, sb);
  }
}

// ---------- the quality raster (the JS reference: raster.ts) ----------

@inline
function voxel(x: f64, o: f64, v: f64, n: i32): i32 {
  return min(n - 1, max(0, <i32>Math.floor((x - o) / v)));
}

/**
 * Walks every segment of the polylines at half-voxel steps and adds, once per edge and
 * voxel, the class mix of the nearer end (times its weight) to the voxels of rows
 * y ∈ [y0, y1) (every x and z; `lastEdge` and `weights` hold those rows only).
 */
export function raster(
  nPoly: i32, offsets: usize, base: u32, points: usize, src: usize, tgt: usize, alpha: usize,
  type: i32, C: i32, nodeMix: usize, nodeOverall: usize, raw: usize, rawNorm: f32,
  ox: f64, oy: f64, oz: f64, v: f64, nx: i32, ny: i32, nz: i32, y0: i32, y1: i32, edgeBase: i32,
  lastEdge: usize, weights: usize, mixA: usize, mixB: usize,
): void {
  const cs = <usize>C << 2;
  const lny = y1 - y0;
  for (let i = 0; i < nPoly; i++) {
    const edge = edgeBase + i;
    const start = load<u32>(offsets + (<usize>i << 2)) - base;
    const m = load<u32>(offsets + (<usize>(i + 1) << 2)) - base - start;
    const s = load<u32>(src + (<usize>i << 2));
    const t = load<u32>(tgt + (<usize>i << 2));
    const a = load<f32>(alpha + (<usize>i << 2));
    const inv: f32 = <f32>1 / <f32>(m - 1);
    for (let p: u32 = 0; p + 1 < m; p++) {
      const q = points + <usize>(start + p) * 12;
      const ax = <f64>load<f32>(q);
      const ay = <f64>load<f32>(q, 4);
      const az = <f64>load<f32>(q, 8);
      const dx = <f64>load<f32>(q, 12) - ax;
      const dy = <f64>load<f32>(q, 16) - ay;
      const dz = <f64>load<f32>(q, 20) - az;
      const ya = voxel(ay, oy, v, ny);
      const yb = voxel(ay + dy, oy, v, ny);
      if (max(ya, yb) < y0 || min(ya, yb) >= y1) continue;
      const wA = sampleMix(type, C, nodeMix, nodeOverall, raw, rawNorm, s, t, a, <f32>p * inv, mixA);
      const wB = sampleMix(type, C, nodeMix, nodeOverall, raw, rawNorm, s, t, a, <f32>(p + 1) * inv, mixB);
      const steps = max(1, <i32>Math.ceil((2 * Math.sqrt(dx * dx + dy * dy + dz * dz)) / v));
      for (let j = 0; j <= steps; j++) {
        const f = <f64>j / <f64>steps;
        const iy = voxel(ay + f * dy, oy, v, ny);
        if (iy < y0 || iy >= y1) continue;
        const cell = (voxel(az + f * dz, oz, v, nz) * lny + iy - y0) * nx + voxel(ax + f * dx, ox, v, nx);
        const last = lastEdge + (<usize>cell << 2);
        if (load<i32>(last) == edge) continue;
        store<i32>(last, edge);
        const near = f < 0.5;
        const wv = f32x4.splat(near ? wA : wB);
        const mix = near ? mixA : mixB;
        const o = weights + <usize>cell * cs;
        for (let c: usize = 0; c < cs; c += 16) v128.store(o + c, f32x4.add(v128.load(o + c), f32x4.mul(wv, v128.load(mix + c))));
      }
    }
  }
}

/**
 * Per row of the raster (z, y ∈ [y0, y1)): occupied voxels, the sum of their dominant class
 * shares and how many shares it holds, into the global row (z · ny + y) of the outputs.
 */
export function rasterRows(nx: i32, ny: i32, nz: i32, y0: i32, y1: i32, C: i32, lastEdge: usize, weights: usize, occupiedOut: usize, shareOut: usize, countedOut: usize): void {
  const cs = <usize>C << 2;
  const lny = y1 - y0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < lny; y++) {
      let occupied = 0;
      let counted = 0;
      let share: f64 = 0;
      for (let x = 0; x < nx; x++) {
        const cell = (z * lny + y) * nx + x;
        if (load<i32>(lastEdge + (<usize>cell << 2)) == -1) continue;
        occupied++;
        let sum: f32 = 0;
        let top: f32 = 0;
        const o = weights + <usize>cell * cs;
        for (let c: usize = 0; c < cs; c += 4) {
          const w = load<f32>(o + c);
          sum += w;
          if (w > top) top = w;
        }
        if (sum > 0) {
          share += top / sum;
          counted++;
        }
      }
      const row = <usize>(z * ny + y0 + y) << 2;
      store<i32>(occupiedOut + row, occupied);
      store<f32>(shareOut + row, <f32>share);
      store<i32>(countedOut + row, counted);
    }
  }
}
