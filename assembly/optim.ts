// assembly/optim.ts: whole-buffer loops for training: gradient norms and clipping, SGD and Adam(W) steps.
// A model's parameters live in one block and its gradients (and each optimizer moment) in blocks of the same
// layout, so every function here is one pass over n floats. Padding lanes hold zero parameters and zero
// gradients, and every update below keeps them zero.
// Update rules follow torch.optim (PyTorch 1.13+, single-tensor "for-loop" implementation):
//   SGD:   g += wd p;  buf = first ? g : momentum buf + (1 - dampening) g;  g = nesterov ? g + momentum buf : buf
//          p -= lr g
//   Adam:  g += wd p (Adam) or p *= 1 - lr wd (AdamW);  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²
//          vmax = max(vmax, v) (amsgrad);  p -= (lr / bc1) m / (sqrt(v or vmax) / sqrt(bc2) + eps)  unless v is 0
//          with bc1 = 1 - b1^step, bc2 = 1 - b2^step computed by the caller in float64.

export function sumSquares(x: usize, n: i32): f64 {
  let s: f64 = 0;
  for (let i = 0; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    s += v * v;
  }
  return s;
}

export function maxAbs(x: usize, n: i32): f32 {
  let m: f32 = 0;
  for (let i = 0; i < n; i++) {
    const v = abs(load<f32>(x + (<usize>i << 2)));
    if (v != v) return v; // a NaN gradient makes the norm NaN, as in PyTorch
    if (v > m) m = v;
  }
  return m;
}

export function scaleInPlace(x: usize, n: i32, s: f32): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    const sv = f32x4.splat(s);
    for (; i + 4 <= n; i += 4) v128.store(x + (<usize>i << 2), f32x4.mul(v128.load(x + (<usize>i << 2)), sv));
  }
  for (; i < n; i++) store<f32>(x + (<usize>i << 2), load<f32>(x + (<usize>i << 2)) * s);
}

export function clampInPlace(x: usize, n: i32, c: f32): void {
  for (let i = 0; i < n; i++) {
    const p = x + (<usize>i << 2);
    store<f32>(p, min(max(load<f32>(p), -c), c));
  }
}

export function sgdStep(
  p: usize, g: usize, buf: usize,   // (n) parameters, gradients, momentum buffer (0 without momentum)
  n: i32, lr: f32, momentum: f32, dampening: f32, weightDecay: f32, nesterov: i32, first: i32,
): void {
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // the loop below, four lanes at a time: the same operations in the same order, so the same bits
    const vlr = f32x4.splat(lr), vmom = f32x4.splat(momentum), vdamp = f32x4.splat(1 - dampening), vwd = f32x4.splat(weightDecay);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const pv = v128.load(p + o);
      let gv = v128.load(g + o);
      if (weightDecay != 0) gv = f32x4.add(gv, f32x4.mul(vwd, pv));
      if (momentum != 0) {
        const b = first ? gv : f32x4.add(f32x4.mul(vmom, v128.load(buf + o)), f32x4.mul(vdamp, gv));
        v128.store(buf + o, b);
        gv = nesterov ? f32x4.add(gv, f32x4.mul(vmom, b)) : b;
      }
      v128.store(p + o, f32x4.sub(pv, f32x4.mul(vlr, gv)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    let gv = load<f32>(g + o);
    if (weightDecay != 0) gv = gv + weightDecay * pv;
    if (momentum != 0) {
      let b = first ? gv : momentum * load<f32>(buf + o) + (1 - dampening) * gv;
      store<f32>(buf + o, b);
      gv = nesterov ? gv + momentum * b : b;
    }
    store<f32>(p + o, pv - lr * gv);
  }
}

export function adamStep(
  p: usize, g: usize, m: usize, v: usize, vmax: usize,   // (n) each; vmax is 0 without amsgrad
  n: i32, lr: f32, beta1: f32, beta2: f32, eps: f32, weightDecay: f32,
  bc1: f64, bc2: f64, decoupled: i32,
): void {
  const stepSize = <f32>(<f64>lr / bc1);
  const bc2Sqrt = <f32>Math.sqrt(bc2);
  let i = 0;
  if (ASC_FEATURE_SIMD) {
    // the loop below, four lanes at a time: the same operations in the same order, so the same bits
    const vlr = f32x4.splat(lr), vb1 = f32x4.splat(1 - beta1), vb2 = f32x4.splat(beta2), vb2c = f32x4.splat(1 - beta2);
    const veps = f32x4.splat(eps), vwd = f32x4.splat(weightDecay), vstep = f32x4.splat(stepSize);
    const vbc2 = f32x4.splat(bc2Sqrt), zero = f32x4.splat(0), one = f32x4.splat(1);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let pv = v128.load(p + o);
      let gv = v128.load(g + o);
      if (weightDecay != 0) {
        if (decoupled) pv = f32x4.mul(pv, f32x4.sub(one, f32x4.mul(vlr, vwd)));
        else gv = f32x4.add(gv, f32x4.mul(vwd, pv));
      }
      const mv = v128.load(m + o);
      const mNew = f32x4.add(mv, f32x4.mul(f32x4.sub(gv, mv), vb1));
      const vNew = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(f32x4.mul(vb2c, gv), gv));
      v128.store(m + o, mNew);
      v128.store(v + o, vNew);
      let vUse = vNew;
      if (vmax) {
        vUse = f32x4.max(v128.load(vmax + o), vNew);
        v128.store(vmax + o, vUse);
      }
      const denom = f32x4.add(f32x4.div(f32x4.sqrt(vUse), vbc2), veps);
      const stepped = f32x4.sub(pv, f32x4.mul(vstep, f32x4.div(mNew, denom)));
      v128.store(p + o, v128.bitselect(pv, stepped, f32x4.eq(vUse, zero)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let pv = load<f32>(p + o);
    let gv = load<f32>(g + o);
    if (weightDecay != 0) {
      if (decoupled) pv = pv * (1 - lr * weightDecay);
      else gv = gv + weightDecay * pv;
    }
    const mv = load<f32>(m + o);
    const mNew = mv + (gv - mv) * (1 - beta1);             // torch: exp_avg.lerp_(grad, 1 - beta1)
    const vNew = beta2 * load<f32>(v + o) + (1 - beta2) * gv * gv;
    store<f32>(m + o, mNew);
    store<f32>(v + o, vNew);
    let vUse = vNew;
    if (vmax) {
      vUse = max(load<f32>(vmax + o), vNew);
      store<f32>(vmax + o, vUse);
    }
    // vUse == 0 means every gradient so far was 0, so m is 0 too: no step. Written out so that eps = 0 (legal
    // in PyTorch) gives 0 there instead of 0/0, which would turn the zero padding of a wasm block into NaN.
    const denom = sqrt<f32>(vUse) / bc2Sqrt + eps;
    store<f32>(p + o, vUse == 0 ? pv : pv - stepSize * (mNew / denom));
  }
}
