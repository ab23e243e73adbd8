// Worker-thread entry of runFuzzWorker (fuzz.ts): imports the loop's module, runs it, reports.
import { parentPort, workerData } from 'node:worker_threads';

const { module, fn, args } = workerData as { module: string; fn: string; args: unknown };
try {
  const loop = (await import(module) as Record<string, (a: unknown) => unknown>)[fn];
  if (typeof loop !== 'function') throw new Error(`${module} exports no function '${fn}'`);
  parentPort!.postMessage({ ok: true, result: await loop(args) });
} catch (e) {
  parentPort!.postMessage({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}
