// Paths and loaders for the committed test fixtures (copies of ../shared/wazuh-samples).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/fixtures in the source tree (tests run from dist/test/..., fixtures are not copied). */
export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');

export interface CapturedFrame {
  direction: 'agent_to_manager' | 'manager_to_agent';
  tcp_bytes_hex: string;
  header: string;
  checksum: string;
  random: string;
  global_counter: string;
  local_counter: string;
  message: string;
}

export interface Capture {
  client_keys_line: string;
  agent: { id: string; name: string; ip: string; key: string };
  frames: CapturedFrame[];
}

export function readFixtureJson<T>(name: string): T {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, name), 'utf8')) as T;
}

export const loadCapture = (): Capture => readFixtureJson<Capture>('capture-agent-4.14.7.json');

/** The captured agent's FIM messages: events and scan info (8:syscheck:), integrity sync (5:fim_file:). */
export function capturedFimMessages(): { syscheck: string[]; dbsync: string[] } {
  const sent = loadCapture().frames.filter((f) => f.direction === 'agent_to_manager').map((f) => f.message);
  return { syscheck: sent.filter((m) => m.startsWith('8:syscheck:')), dbsync: sent.filter((m) => m.startsWith('5:fim_file:')) };
}
