// One FIM scan in a process of its own, for tests that need other credentials than the test
// runner's (e.g. root without CAP_DAC_OVERRIDE, for which mode 000 means "cannot read").
// argv: the ossec.conf text, the baseline file. Prints JSON: what the engine (and its walk)
// logged and sent, and the scan's summary.
import { parseAgentConfig } from '../../src/config/load.js';
import { Baseline } from '../../src/fim/db.js';
import { FimEngine } from '../../src/fim/engine.js';
import { HashPool } from '../../src/fim/hash.js';
import { WhoResolver } from '../../src/fim/who.js';
import { MemoryLogger } from '../../src/log.js';

const [conf, dbFile] = process.argv.slice(2) as [string, string];
const { syscheck } = parseAgentConfig(conf, 'ossec.conf');
const baseline = new Baseline(dbFile);
const hashes = new HashPool({ scanThreads: 1 });
const engineLog = new MemoryLogger();
const sent: string[] = [];
const engine = new FimEngine({ syscheck, baseline, hashes, who: new WhoResolver(), send: (m) => sent.push(m), sendSync: async (m) => void sent.push(m), log: engineLog });
const summary = await engine.scan();
baseline.close();
await hashes.close();
process.stdout.write(JSON.stringify({ engineLog: engineLog.records, sent, summary }));
