// src/reference/optim.ts: the plain-TypeScript mirror of assembly/optim.ts (same functions, same order of
// operations, arrays instead of pointers). Used by the reference backend's optimizers and as the oracle.
import type { Vec } from "./math.js";

export function sumSquares(x: Vec, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}

export function maxAbs(x: Vec, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = Math.abs(x[i]);
    if (Number.isNaN(v)) return v;
    if (v > m) m = v;
  }
  return m;
}

export function scaleInPlace(x: Vec, n: number, s: number): void {
  for (let i = 0; i < n; i++) x[i] *= s;
}

export function clampInPlace(x: Vec, n: number, c: number): void {
  for (let i = 0; i < n; i++) x[i] = Math.min(Math.max(x[i], -c), c);
}

export function sgdStep(
  p: Vec, g: Vec, buf: Vec | null,
  n: number, lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, first: boolean,
): void {
  for (let i = 0; i < n; i++) {
    let gv = g[i];
    if (weightDecay !== 0) gv += weightDecay * p[i];
    if (momentum !== 0 && buf) {
      buf[i] = first ? gv : momentum * buf[i] + (1 - dampening) * gv;
      gv = nesterov ? gv + momentum * buf[i] : buf[i];
    }
    p[i] -= lr * gv;
  }
}

export function adamStep(
  p: Vec, g: Vec, m: Vec, v: Vec, vmax: Vec | null,
  n: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number,
  bc1: number, bc2: number, decoupled: boolean,
): void {
  const stepSize = lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  for (let i = 0; i < n; i++) {
    let pv = p[i];
    let gv = g[i];
    if (weightDecay !== 0) {
      if (decoupled) pv *= 1 - lr * weightDecay;
      else gv += weightDecay * pv;
    }
    m[i] = m[i] + (gv - m[i]) * (1 - beta1);
    v[i] = beta2 * v[i] + (1 - beta2) * gv * gv;
    let vUse = v[i];
    if (vmax) vUse = vmax[i] = Math.max(vmax[i], v[i]);
    p[i] = vUse === 0 ? pv : pv - stepSize * (m[i] / (Math.sqrt(vUse) / bc2Sqrt + eps));
  }
}
