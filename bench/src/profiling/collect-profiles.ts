import { readdir } from 'node:fs/promises';
import { PROFILE_SIGNAL } from './profile-signal.js';

/** Asks every profiled process (see cpu-profile-preload.ts) for its profile and waits for the files. */
export async function collectProfiles(dir: string, pids: readonly number[], timeoutMs = 30_000): Promise<void> {
  const alive = pids.filter((pid) => {
    try {
      process.kill(pid, PROFILE_SIGNAL);
      return true;
    } catch {
      return false;
    }
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const written = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
    if (alive.every((pid) => written.some((f) => f.includes(`.${pid}.`)))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
