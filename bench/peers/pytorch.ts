// bench/peers/pytorch.ts: PyTorch (Debian's python3-torch, one thread) as a peer, through a subprocess:
// `/usr/bin/python3 bench/peers/pytorch_bench.py CONFIG.json` (see that file). It gets the same weight files and the
// inputs this process drew (through a temporary safetensors file), returns its check values in another, and its
// timings (benchmark.js' method: median per call, relative margin of error) as JSON. When /usr/bin/python3 or torch is
// missing, the PyTorch column is skipped with the reason. For the inference workloads it also times the same model
// after torch.ao.quantization.quantize_dynamic (qint8 weights, dynamic 8-bit activations: issue 14's peer row).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSafetensors, saveSafetensors, type Tensor } from "../../src/index.js";
import { MODELS_DIR, STREAM_CHECK_STEPS, TRAIN_LR, type CheckValues, type WorkloadData, type WorkloadId } from "./workloads.js";

export const PYTHON = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./pytorch_bench.py", import.meta.url));

export interface PytorchTiming {
  medianMs: number;
  meanMs: number;
  rmePercent: number;
  samples: number;
}

export interface PytorchRun {
  torch: string;
  threads: number;
  blas: string;
  results: Map<WorkloadId, PytorchResult>;
}

/** One workload's PyTorch results: float32, and (inference workloads) quantize_dynamic's qint8 model on `engine`. */
export interface PytorchResult {
  check: CheckValues;
  timing: PytorchTiming;
  quantized?: { check: CheckValues; timing: PytorchTiming; engine: string };
}

/** Why PyTorch cannot run here, or null when `import torch` works. */
export function pytorchMissing(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found (Debian: apt-get install python3-torch)`;
  const r = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  return r.status === 0 ? null : `${PYTHON} cannot import torch (Debian: apt-get install python3-torch)`;
}

/** Runs every workload of `data` in one PyTorch process; throws with its stderr when it fails. */
export function runPytorch(data: WorkloadData[], budget: { minSamples: number; maxTime: number }): PytorchRun {
  const dir = mkdtempSync(join(tmpdir(), "rnn-wasm-bench-"));
  try {
    const inputs: Record<string, Tensor> = {};
    for (const d of data) {
      const { id, T, B, I } = d.workload;
      inputs[`${id}.input`] = { shape: [T, B, I], data: d.input };
      if (d.target) inputs[`${id}.target`] = { shape: [B, 1], data: d.target };
    }
    writeFileSync(join(dir, "inputs.safetensors"), saveSafetensors(inputs));
    const config = {
      models: MODELS_DIR,
      inputs: join(dir, "inputs.safetensors"),
      out: join(dir, "out.safetensors"),
      workloads: data.map((d) => d.workload),
      minSamples: budget.minSamples,
      maxTime: budget.maxTime,
      streamCheckSteps: STREAM_CHECK_STEPS,
      lr: TRAIN_LR,
    };
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    const r = spawnSync(PYTHON, [SCRIPT, join(dir, "config.json")], { encoding: "utf8", maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`pytorch_bench.py exited with ${r.status}:\n${r.stderr}`);
    const printed = JSON.parse(r.stdout) as {
      torch: string; threads: number; blas: string;
      results: Record<string, { timing: PytorchTiming; losses?: [number, number]; quantized?: { timing: PytorchTiming; engine: string } }>;
    };
    const out = loadSafetensors(readFileSync(config.out)).tensors;
    const results = new Map<WorkloadId, PytorchResult>();
    /** The check values saved under `key` + ".output" / ".h" / ".c" (and the training ones). */
    const checkOf = (key: string, losses?: number[]): CheckValues => ({
      output: out[`${key}.output`]?.data, h: out[`${key}.h`]?.data, c: out[`${key}.c`]?.data,
      losses, headWeight: out[`${key}.headWeight`]?.data, lstmWeights: out[`${key}.lstmWeights`]?.data,
    });
    for (const d of data) {
      const id = d.workload.id;
      const p = printed.results[id];
      results.set(id, {
        timing: p.timing,
        check: checkOf(id, p.losses),
        quantized: p.quantized && { ...p.quantized, check: checkOf(`${id}.qint8`) },
      });
    }
    return { torch: printed.torch, threads: printed.threads, blas: printed.blas, results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
