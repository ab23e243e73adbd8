// Destroys libbpf links for FimPrograms.closeAsync (loader.ts) on a thread of its own: a link's
// detach waits in the kernel for RCU grace periods, and detaches on several threads share them.
// Loads nothing but libbpf's destroy function.
import koffi from 'koffi';
import { workerData } from 'node:worker_threads';
import { LIBRARY } from './libbpf.js';

const destroy = koffi.load(LIBRARY).func('int bpf_link__destroy(void *link)');
for (const link of workerData as bigint[]) destroy(link);
