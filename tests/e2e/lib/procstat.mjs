// Process statistics of the benchmarks and tests, from /proc.
import fs from 'node:fs';

/** CPU seconds (user+sys) of a process from /proc. */
export function cpuSeconds(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (100 Hz)
  } catch {
    return NaN;
  }
}
