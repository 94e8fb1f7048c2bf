/* kestrel-bench-machine.h — what a benchmark records about the machine, and
 * the probes read around each cell visit (CPU time, other processes' load,
 * RAPL energy, core frequencies, thermal throttling).
 *
 * Everything here reads what the kernel exposes and says plainly when it
 * does not: a virtual machine has no cpufreq, no RAPL and no throttle
 * counters, and the notes say so rather than leaving a blank.
 */
#pragma once

#include "kestrel-bench.h"

G_BEGIN_DECLS

/* Fills the machine and software fields of `result`. */
void kestrel_bench_describe_machine (KestrelBenchResult *result);

/* NULL when the RAPL package energy counter is readable; otherwise why it
 * is not and how to allow it. */
char *kestrel_bench_energy_note (void);

#define KESTREL_BENCH_PROBE_MAX_CORES 256

typedef struct {
  guint64 wall_ns;
  guint64 cpu_ns;               /* this process, every thread */
  guint64 sys_busy, sys_total;  /* libgtop ticks, all cores */
  gboolean sys_ok;
  guint64 energy_uj;
  gboolean energy_ok;
  guint64 throttle;
  guint n_freq;
  double freq_khz[KESTREL_BENCH_PROBE_MAX_CORES];
} KestrelBenchProbe;

/* What a cell's visits add up to. */
typedef struct {
  guint64 wall_ns, cpu_ns;
  guint64 sys_busy, sys_total;
  gboolean sys_ok;              /* every visit had the system counters */
  guint64 energy_uj;
  gboolean energy_ok;           /* every visit read the energy counter */
  guint64 throttle_events;
  double max_freq_drift;        /* fraction; NAN when no frequencies */
  guint visits;
} KestrelBenchTotals;

void kestrel_bench_totals_init (KestrelBenchTotals *totals);
void kestrel_bench_probe_start (KestrelBenchProbe *probe);
void kestrel_bench_probe_stop (const KestrelBenchProbe *start, KestrelBenchTotals *totals);

/* The machine's own speed: the time (ms) of a fixed piece of scalar
 * arithmetic on a few KB of data, the fastest of a few tries (so a
 * preemption does not count, a slower clock or a busy sibling hardware
 * thread does). The same binary on a steady machine times the same; a
 * virtual machine whose host is busy, or a clock that changed, does not,
 * and that moves every cell's times with it. About 1 ms. */
double kestrel_bench_reference_loop_ms (void);

/* Thread CPU time of the whole process in ns (CLOCK_PROCESS_CPUTIME_ID). */
guint64 kestrel_bench_process_cpu_ns (void);

G_END_DECLS
