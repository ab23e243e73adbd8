// The test manager (test/support) in its own process, so that benchmarks can put it on its own
// core. Prints {"authd":port,"remoted":port} once listening, then answers commands on stdin, one
// JSON line each:
//   count <prefix>   how many messages from agents start with <prefix>
//   arrivals         [{"key": ..., "at": ms}] for FIM deletions (key: the path) and for
//                    `1:bench:<key>` lines, with the time each reached the manager (Date.now())
//   first <text>     {"at": ms} when the first message containing <text> arrived, or {"at": null}
//   states           {"count": n}: how many files' integrity sync states arrived (each file once)
// With --light, the manager only decrypts, records and answers (no alerts, no FIM inventory).
// With --no-data, it answers every integrity check with no_data (the sync's worst case).
import readline from 'node:readline';
import { TestManager } from '../../test/support/manager.js';

async function main(): Promise<void> {
  const manager = await new TestManager({ analyze: !process.argv.includes('--light'), answerNoData: process.argv.includes('--no-data') }).start();
  console.log(JSON.stringify({ authd: manager.authd.port, remoted: manager.remoted.tcpPort }));
  const messages = manager.remoted.messages;
  const stated = new Set<string>();
  let statesRead = 0;
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const space = line.indexOf(' ');
    const [cmd, arg] = space < 0 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
    if (cmd === 'count') {
      let n = 0;
      for (const m of messages) if (m.text.startsWith(arg)) n++;
      console.log(JSON.stringify({ count: n }));
    } else if (cmd === 'arrivals') {
      const out: { key: string; at: number }[] = [];
      for (const m of messages) {
        if (m.text.startsWith('1:bench:')) out.push({ key: m.text.slice('1:bench:'.length), at: m.at });
        else if (m.text.startsWith('8:syscheck:') && m.text.includes('"deleted"')) {
          const e = JSON.parse(m.text.slice('8:syscheck:'.length)) as { data?: { type?: string; path?: string } };
          if (e.data?.type === 'deleted' && e.data.path) out.push({ key: e.data.path, at: m.at });
        }
      }
      console.log(JSON.stringify(out));
    } else if (cmd === 'states') {
      for (; statesRead < messages.length; statesRead++) {
        const text = messages[statesRead]!.text;
        if (!text.startsWith('5:fim_file:') || !text.endsWith('"type":"state"}')) continue;
        const index = /"index":("(?:[^"\\]|\\.)*")/.exec(text)?.[1];
        if (index) stated.add(index);
      }
      console.log(JSON.stringify({ count: stated.size }));
    } else if (cmd === 'first') {
      console.log(JSON.stringify({ at: messages.find((m) => m.text.includes(arg))?.at ?? null }));
    }
  }
  await manager.stop();
}

void main();
