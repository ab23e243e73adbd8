// The broken-config corpus: each file under test/fixtures/config/broken and the line and option
// its ConfigError must name. Shared by the parser tests and the CLI tests.
import path from 'node:path';
import { FIXTURES } from './fixtures.js';

export const BROKEN = path.join(FIXTURES, 'config', 'broken');

/** Every file in test/fixtures/config/broken: the line and option its ConfigError must name. */
export const BROKEN_CONFIGS: { file: string; line: number | undefined; option: string | undefined; reason: RegExp }[] = [
  // XML syntax
  { file: 'xml-unclosed-tag.conf', line: 11, option: 'labels', reason: /mismatched closing tag <\/ossec_config>: expected <\/labels> \(opened at line 8\)/ },
  { file: 'xml-unclosed-at-eof.conf', line: 8, option: 'client_buffer', reason: /unclosed tag <client_buffer> opened at line 8/ },
  { file: 'xml-mismatched-tag.conf', line: 5, option: 'client.server.port', reason: /mismatched closing tag <\/prot>/ },
  { file: 'xml-unterminated-comment.conf', line: 6, option: 'client', reason: /unterminated comment/ },
  { file: 'xml-unquoted-attribute.conf', line: 8, option: 'labels.label', reason: /value of attribute 'key' of <label> must be quoted/ },
  { file: 'xml-duplicate-attribute.conf', line: 8, option: 'labels.label', reason: /duplicate attribute 'key' in <label>/ },
  { file: 'xml-text-outside-element.conf', line: 8, option: undefined, reason: /text outside an element/ },
  { file: 'xml-closing-without-opening.conf', line: 8, option: undefined, reason: /closing tag <\/ossec_config> has no matching opening tag/ },
  { file: 'xml-bad-element-name.conf', line: 4, option: 'client.server', reason: /invalid element name/ },
  // Structure
  { file: 'wrong-root.conf', line: 1, option: 'agent_config', reason: /Invalid element in the configuration: 'agent_config'/ },
  { file: 'unknown-section.conf', line: 8, option: 'sycheck', reason: /Invalid element in the configuration: 'sycheck'/ },
  { file: 'unknown-element-client.conf', line: 6, option: 'client.notify-time', reason: /Invalid element in the configuration: 'notify-time'/ },
  { file: 'unknown-element-enrollment.conf', line: 8, option: 'client.enrollment.agent-name', reason: /Invalid element .*'agent-name'/ },
  { file: 'value-with-child-elements.conf', line: 5, option: 'client.server.port', reason: /takes a value, not child elements/ },
  { file: 'no-server.conf', line: 2, option: 'client.server', reason: /No manager configured/ },
  { file: 'no-client-section.conf', line: undefined, option: 'client.server', reason: /No manager configured/ },
  { file: 'server-without-address.conf', line: 6, option: 'client.server.address', reason: /No <address> in this <server> block/ },
  // Values
  { file: 'empty-value.conf', line: 6, option: 'client.notify_time', reason: /Empty value for element 'notify_time'/ },
  { file: 'protocol-unknown.conf', line: 6, option: 'client.server.protocol', reason: /'sctp' \(must be tcp or udp\)/ },
  { file: 'port-zero.conf', line: 5, option: 'client.server.port', reason: /'0' \(must be 1-65535\)/ },
  { file: 'port-too-big.conf', line: 9, option: 'client.server.port', reason: /'70000' \(must be 1-65535\)/ },
  { file: 'port-not-a-number.conf', line: 7, option: 'client.enrollment.port', reason: /'abc' \(must be 1-65535\)/ },
  { file: 'negative-notify-time.conf', line: 6, option: 'client.notify_time', reason: /'-10' \(must be 0-2147483647\)/ },
  { file: 'max-retries-zero.conf', line: 5, option: 'client.server.max_retries', reason: /'0' \(must be 1-2147483647\)/ },
  { file: 'delay-after-enrollment-zero.conf', line: 7, option: 'client.enrollment.delay_after_enrollment', reason: /'0' \(must be 1-/ },
  { file: 'crypto-blowfish.conf', line: 6, option: 'client.crypto_method', reason: /'blowfish' is not supported by wazuh-bpf-agent, use aes/ },
  { file: 'bad-yes-no.conf', line: 6, option: 'client.auto_restart', reason: /'true' \(must be yes or no\)/ },
  { file: 'placeholder-address.conf', line: 4, option: 'client.server.address', reason: /Invalid server address found: 'MANAGER_IP'/ },
  { file: 'hostname-with-slash.conf', line: 4, option: 'client.server.address', reason: /Invalid hostname: 'wazuh.example.com\/24'/ },
  { file: 'server-ip-not-an-ip.conf', line: 3, option: 'client.server-ip', reason: /Invalid IP address: 'wazuh.example.com'/ },
  { file: 'queue-size-out-of-range.conf', line: 9, option: 'client_buffer.queue_size', reason: /'100001' \(must be 1-100000\)/ },
  { file: 'events-per-second-out-of-range.conf', line: 8, option: 'client_buffer.events_per_second', reason: /'1001' \(must be 1-1000\)/ },
  { file: 'label-without-key.conf', line: 9, option: 'labels.label', reason: /Expected 'key' attribute for label/ },
  { file: 'label-hidden-not-yes-no.conf', line: 8, option: 'labels.label', reason: /attribute 'hidden': 'true' \(must be yes or no\)/ },
];
