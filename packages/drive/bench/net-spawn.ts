/** Starts `net-hosts.ts` in a child process and hands back its relay and host addresses. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface NetHosts {
  relay: string;
  hosts: string[];
  stop(): Promise<void>;
}

export async function startNetHosts(count: number, timeoutMs = 90_000): Promise<NetHosts> {
  const script = fileURLToPath(new URL('./net-hosts.ts', import.meta.url));
  const child = spawn(process.execPath, [script, String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('hosts did not start in time')), timeoutMs);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(out.slice(0, nl));
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`hosts exited with ${code}`));
      });
    });
    const { relay, hosts } = JSON.parse(line) as { relay: string; hosts: string[] };
    return { relay, hosts, stop };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
