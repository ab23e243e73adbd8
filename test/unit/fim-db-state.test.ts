import { expect } from 'chai';
import { checkDbState } from '../../src/fim/db-state.js';

describe('fim: file database fill state (fim_check_db_state)', () => {
  it('reports each level change once, and the return to normal', () => {
    let s = checkDbState('empty', 100, 50);
    expect(s.change).to.equal(undefined);
    s = checkDbState(s.state, 100, 85);
    expect(s.change?.log).to.equal('(6038): File database is 80% full.');
    expect(checkDbState(s.state, 100, 86).change).to.equal(undefined);
    s = checkDbState(s.state, 100, 95);
    expect(s.change?.message).to.equal('1:syscheck:wazuh: FIM DB: {"fim_db_table":"file_entry","file_limit":100,"file_count":95,"alert_type":"90_percentage"}');
    s = checkDbState(s.state, 100, 100);
    expect(s.change).to.include({ state: 'full', level: 'warn', log: '(6926): File database is 100% full.' });
    s = checkDbState(s.state, 100, 10);
    expect(s.change?.log).to.equal('(6036): The file database status returns to normal.');
    expect(s.change?.message).to.match(/"alert_type":"normal"/);
  });
});
