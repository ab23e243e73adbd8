// Our verdict on each configuration of test/fixtures/config against the one the real Wazuh 4.14.7
// agent gave (test/fixtures/config/verdicts/wazuh-4.14.7.json, recorded from `wazuh-syscheckd -t`
// and `wazuh-agentd -t` by verdicts/record.mjs): refused where wazuh-agentd refuses, and
// otherwise the very lines each daemon logged, at their level, in their order.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, type ConfigWarning } from '../../src/config/errors.js';
import { parseAgentConfig } from '../../src/config/load.js';
import { REAL_HOST } from '../../src/config/syscheck.js';
import { FIXTURES } from '../support/fixtures.js';

const CONFIG = path.join(FIXTURES, 'config');

interface DaemonVerdict { exit: number; lines: string[] }
interface Recording {
  wazuh: string;
  cases: Record<string, { 'wazuh-syscheckd': DaemonVerdict; 'wazuh-agentd': DaemonVerdict }>;
}

const recording = JSON.parse(fs.readFileSync(path.join(CONFIG, 'verdicts', 'wazuh-4.14.7.json'), 'utf8')) as Recording;

/**
 * Where this agent decides otherwise than Wazuh 4.14.7, on purpose: the case and why. Every
 * other recorded case must agree.
 */
const DISAGREEMENTS: Record<string, string> = {
  'broken/crypto-blowfish.conf': 'Wazuh accepts crypto_method blowfish; this agent only speaks AES and refuses the file rather than fail at the first message',
  'broken/xml-text-outside-element.conf': "Wazuh's XML reader ignores text between elements; ours refuses it as a syntax error (it is usually a broken tag)",
};

/** The daemon that reads an option: <syscheck> is wazuh-syscheckd's, <client>, <client_buffer>, <labels> wazuh-agentd's. */
function daemonOf(w: ConfigWarning): 'wazuh-syscheckd' | 'wazuh-agentd' {
  return w.option?.split('.')[0] === 'syscheck' ? 'wazuh-syscheckd' : 'wazuh-agentd';
}

type Verdict = { refused: string } | { lines: Record<'wazuh-syscheckd' | 'wazuh-agentd', string[]> };

function ourVerdict(name: string): Verdict {
  const file = path.join(CONFIG, name);
  let warnings: ConfigWarning[];
  try {
    warnings = parseAgentConfig(fs.readFileSync(file, 'utf8'), file, { env: {}, pathExists: REAL_HOST.pathExists }).warnings;
  } catch (e) {
    if (e instanceof ConfigError) return { refused: e.reason };
    throw e;
  }
  const lines = { 'wazuh-syscheckd': [] as string[], 'wazuh-agentd': [] as string[] };
  for (const w of warnings) {
    if (w.level !== 'INFO') lines[daemonOf(w)].push(`${w.level}: ${w.message.split(file).join('{file}')}`);
  }
  return { lines };
}

function agrees(name: string): boolean {
  const wazuh = recording.cases[name]!;
  const ours = ourVerdict(name);
  if (wazuh['wazuh-agentd'].exit !== 0) return 'refused' in ours;
  return 'lines' in ours
    && JSON.stringify(ours.lines['wazuh-syscheckd']) === JSON.stringify(wazuh['wazuh-syscheckd'].lines)
    && JSON.stringify(ours.lines['wazuh-agentd']) === JSON.stringify(wazuh['wazuh-agentd'].lines);
}

describe(`config verdicts: as the real Wazuh ${recording.wazuh} agent gave them`, () => {
  const names = Object.keys(recording.cases);

  it('the recording covers every configuration of test/fixtures/config', () => {
    const onDisk = ['verdicts', 'broken', 'good'].flatMap((dir) => fs.readdirSync(path.join(CONFIG, dir))
      .filter((f) => f.endsWith('.conf')).map((f) => `${dir}/${f}`));
    expect(names.sort()).to.deep.equal(onDisk.sort());
    expect(names.filter((n) => n.startsWith('verdicts/')).length).to.be.at.least(60);
  });

  for (const name of names) {
    const wazuh = recording.cases[name]!;
    const refuses = wazuh['wazuh-agentd'].exit !== 0;
    if (Object.hasOwn(DISAGREEMENTS, name)) {
      it(`${name}: disagrees on purpose (${DISAGREEMENTS[name]})`, () => {
        expect(agrees(name)).to.equal(false);
      });
      continue;
    }
    it(`${name}: ${refuses ? 'refused, as wazuh-agentd refuses it' : 'the lines wazuh-syscheckd and wazuh-agentd log'}`, () => {
      const ours = ourVerdict(name);
      if (refuses) {
        expect(ours, JSON.stringify(ours)).to.have.property('refused');
        // The cases written for this rule set are refused in Wazuh's own words.
        if (name.startsWith('verdicts/')) {
          // (our reason may go on after Wazuh's message, saying what the value must be)
          expect(`ERROR: ${(ours as { refused: string }).refused}`.startsWith(wazuh['wazuh-agentd'].lines[0]!), JSON.stringify(ours)).to.equal(true);
        }
        return;
      }
      expect(ours).to.deep.equal({ lines: { 'wazuh-syscheckd': wazuh['wazuh-syscheckd'].lines, 'wazuh-agentd': wazuh['wazuh-agentd'].lines } });
    });
  }

  it('agreement: every recorded case but the listed disagreements', () => {
    const disagreeing = names.filter((n) => !agrees(n));
    expect(disagreeing.sort()).to.deep.equal(Object.keys(DISAGREEMENTS).sort());
  });
});
