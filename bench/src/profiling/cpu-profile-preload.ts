/**
 * Loaded with `--import` through NODE_OPTIONS into the gateway and, by inheritance, into every worker
 * it spawns (Node 20 refuses `--cpu-prof` in NODE_OPTIONS). Samples the CPU from start until SIGUSR2,
 * then writes `CPU.<date>.<time>.<pid>.0.001.cpuprofile` (the name `--cpu-prof` uses) into
 * $BENCH_CPU_PROF_DIR. A signal rather than process exit, because the gateway SIGKILLs a worker as
 * soon as its socket closes, before any exit hook could write.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { PROFILE_SIGNAL } from './profile-signal.js';

const dir = process.env['BENCH_CPU_PROF_DIR'];
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.setSamplingInterval', { interval: 100 });
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.once(PROFILE_SIGNAL, () => {
    session.post('Profiler.stop', (err, result) => {
      if (err) return;
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '.').slice(0, 15);
      writeFileSync(join(dir, `CPU.${stamp}.${process.pid}.0.001.cpuprofile`), JSON.stringify(result.profile));
      session.disconnect();
    });
  });
}
