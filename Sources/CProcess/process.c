#define _GNU_SOURCE
#include "CProcess.h"
#if defined(__linux__)
#include <sched.h>
#include <sys/prctl.h>
int sbn_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0, 0, 0); }
int sbn_affinity_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
}
#else
int sbn_set_parent_death_signal(int sig) { (void)sig; return -1; }
int sbn_affinity_cpu_count(void) { return 0; }
#endif
