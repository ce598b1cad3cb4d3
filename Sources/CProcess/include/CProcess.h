// Process controls that Swift's Glibc module does not export (prctl is variadic; the affinity
// calls need _GNU_SOURCE).
#ifndef SBNLAB_CPROCESS_H
#define SBNLAB_CPROCESS_H

/// Asks the kernel to send `sig` to this process when its parent dies (Linux PR_SET_PDEATHSIG);
/// returns 0 on success, -1 where unsupported or on error.
int sbn_set_parent_death_signal(int sig);

/// The number of CPUs in this process's affinity mask (taskset, cgroup cpusets, a SLURM
/// allocation); 0 where unsupported or on error.
int sbn_affinity_cpu_count(void);

#endif
