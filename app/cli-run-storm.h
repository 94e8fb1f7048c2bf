/* cli-run-storm.h — `kestrel-cli run --reconfigure-every SECONDS`: a live
 * reconfiguration drawn at random every few seconds, for the soak
 * (scripts/soak.sh) and its smoke test.
 *
 * Why an option of `run` rather than a soak program of its own: the soak is
 * meant to exercise what a user runs, and `run` already is the engine
 * headless (its events, its summary, its state file, its metrics endpoint);
 * the storm only adds the calls the window's controls make,
 * kestrel_engine_reconfigure() with a whole configuration, from the thread
 * that created the engine. A second program would have duplicated `run`
 * and soaked something nobody runs.
 */
#pragma once

#include "kestrel-engine.h"

G_BEGIN_DECLS

typedef struct _KestrelCliStorm KestrelCliStorm;

/* Every `every_s` seconds (on the thread-default main context) changes one
 * setting of the last configuration asked for, drawn with a generator
 * seeded with `seed`: precision (fp32, int8), level, threads (1 to the
 * cores), batch (1, 2, 4, 8), budget (none, 50, 100, 150 % of one core),
 * model (front, back) or source (one of `sources`, when it has more than
 * one). Each change is printed as a JSON line
 * {"reconfigure": N, "set": "level", "to": "simd"} (with `json`) or a text
 * line. `start` is the configuration the engine was started with.
 *
 * With `checkpoint_every_s` > 0, that often the storm also goes back to
 * `start` (a request printed with "set": "checkpoint") and, once the
 * engine has run it for 5 s, prints the process's resident size there:
 * {"checkpoint": N, "time_s": T, "reached": true, "rss_mb": M} (with glibc
 * also "malloc_in_use_mb" and "malloc_free_mb", mallinfo2()) (or
 * "reached": false when the engine did not get there within a minute).
 * Why: the resident size depends on the settings in effect (the back model
 * at batch 8 needs more than the front one at batch 1), so samples taken
 * under random settings scatter by tens of MB; at one fixed configuration
 * they differ only by what the run has kept, and their slope measures
 * growth (scripts/soak-report.py). */
KestrelCliStorm *kestrel_cli_storm_new (KestrelEngine *engine, const KestrelEngineConfig *start,
                                        const char *const *sources, guint32 seed, double every_s,
                                        double checkpoint_every_s, gboolean json);
void kestrel_cli_storm_free (KestrelCliStorm *storm);
/* Reconfigurations asked for so far. */
guint kestrel_cli_storm_get_n_requested (KestrelCliStorm *storm);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelCliStorm, kestrel_cli_storm_free)

G_END_DECLS
