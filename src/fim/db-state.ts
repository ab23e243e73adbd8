// How full the file database is against file_limit, reported like Wazuh's fim_check_db_state()
// (syscheckd/src/create_db.c) after each scan: a log line and a `1:syscheck:wazuh: FIM DB: {...}`
// message to the manager whenever the level changes.
export type DbState = 'empty' | 'normal' | '80_percentage' | '90_percentage' | 'full';

export interface DbStateChange {
  state: DbState;
  level: 'info' | 'warn';
  log: string;
  message: string;
}

const LOG: Record<'normal' | '80_percentage' | '90_percentage' | 'full', string> = {
  normal: '(6036): The file database status returns to normal.',
  '80_percentage': '(6038): File database is 80% full.',
  '90_percentage': '(6040): File database is 90% full.',
  full: '(6926): File database is 100% full.',
};

function levelOf(limit: number, count: number): DbState {
  if (count >= limit) return 'full';
  if (count >= limit * 0.9) return '90_percentage';
  if (count >= limit * 0.8) return '80_percentage';
  return count > 0 ? 'normal' : 'empty';
}

/** The new state, and what to report when Wazuh would report it (undefined: nothing). */
export function checkDbState(previous: DbState, limit: number, count: number): { state: DbState; change?: DbStateChange } {
  const state = levelOf(limit, count);
  // between empty and normal Wazuh moves silently; every other change is reported
  const quiet = state === previous || ((previous === 'empty' || previous === 'normal') && (state === 'empty' || state === 'normal'));
  if (quiet) return { state };
  const alertType = state === 'empty' ? 'normal' : state;
  const body = JSON.stringify({ fim_db_table: 'file_entry', file_limit: limit, file_count: count, alert_type: alertType });
  return {
    state,
    change: { state, level: state === 'full' ? 'warn' : 'info', log: LOG[alertType], message: `1:syscheck:wazuh: FIM DB: ${body}` },
  };
}
