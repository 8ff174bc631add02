// Whether a call ran on a GPU, for the manifest's gpu_used / gpu_device (README "Manifests"):
// an argument `gpu: true`, or the result says so; the device from the result, else the machine's
// first visible GPU, honouring CUDA_VISIBLE_DEVICES=-1 (no GPU visible).
import { execFile } from 'node:child_process';

export interface GpuFacts {
  used: boolean;
  device?: string;
}

/** Pure: combine what the arguments and the result say; `machine` is asked only when needed. */
export async function gpuFacts(
  args: unknown,
  fromResult: GpuFacts | undefined,
  machine: () => Promise<string | undefined> = machineGpu,
): Promise<GpuFacts | undefined> {
  const argGpu = !!args && typeof args === 'object' && (args as Record<string, unknown>).gpu === true;
  if (!argGpu && !fromResult?.used) return undefined;
  const device = fromResult?.device ?? (await machine());
  return device ? { used: true, device } : { used: true };
}

let cached: Promise<string | undefined> | undefined;

/** The first visible NVIDIA GPU's name, asked once per process with a short timeout. */
export function machineGpu(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const visible = env.CUDA_VISIBLE_DEVICES;
  if (visible !== undefined && (visible.trim() === '' || visible.trim() === '-1')) return Promise.resolve(undefined);
  cached ??= new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], { timeout: 2000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      const names = stdout.split('\n').map((s) => s.trim()).filter(Boolean);
      const first = visible ? Number(visible.split(',')[0]) : 0;
      resolve(names[Number.isInteger(first) ? first : 0] ?? names[0]);
    });
  });
  return cached;
}
