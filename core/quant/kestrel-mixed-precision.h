/* kestrel-mixed-precision.h — which layers an INT8 plan keeps in FP32, so
 * that it stays accurate: the sensitivity search, part of calibration.
 *
 * Any model, no task knowledge: the goal is the model's worst output SQNR
 * (signal power over error power against the FP32 plan, per output, summed
 * over the calibration frames), at least `goal_db`. The search:
 *
 *   1. every convolution the INT8 pass can quantise is a candidate;
 *   2. sensitivity of candidate L: the worst output SQNR of the plan with
 *      only L INT8 (every other candidate FP32; MaxPool / Concat after
 *      it go INT8 as they would in the full plan, an Add only when its
 *      other input is INT8 too);
 *   3. the all-INT8 plan meets the goal: nothing stays FP32. Else the
 *      candidates, most sensitive first, are kept FP32 in the shortest
 *      prefix that meets it (a bisection over the prefix length), and
 *      then each kept layer, least sensitive first, goes back to INT8 when
 *      the goal still holds without it: no kept layer can be dropped.
 *      (A mix tried only for whether it meets the goal stops at the first
 *      frame that misses it, which goes first for the next one.)
 *   4. the chosen mix is run once more against the FP32 reference graph,
 *      layer by layer: each tensor's MSE and SQNR over the frames.
 *
 * The table gets the FP32 layers, the sensitivities, the tensors' errors
 * and the summary (kestrel-quant-table.h), so the cache file holds the
 * decision and kestrel_plan_new() applies it.
 *
 * Plans are tried at level full (the outputs are the same bits at every
 * level, kestrel-plan.h); the frames are filled once and kept as input
 * tensors, so `fill_input` runs n_frames times. The sensitivities start
 * where their plan stops being the all-FP32 one (the values before come
 * from one run of that plan per frame, kestrel_plan_run_from), and the
 * exact check of step 4 stops at a failing frame like the prunes do.
 */
#pragma once

#include "kestrel-calibrate.h"

G_BEGIN_DECLS

/* Worst output SQNR the default search aims at. At 20 dB a BlazeFace
 * score (a sigmoid of the logit) moves by a few hundredths at most; both
 * bundled models' agreement goal holds there (core/quant/README.md). */
#define KESTREL_MIXED_DEFAULT_GOAL_DB 20.0

/* A goal of the caller's on top of the SQNR, from what it knows of the
 * task (the runtime's: the detections of every calibration frame agree
 * with FP32's). TRUE when the mix's `outputs` on calibration frame `frame`
 * agree with `fp32_outputs` (both in the model's output order). The
 * search then accepts a mix only when both goals hold. */
typedef gboolean (*KestrelMixedAgreeFunc) (guint frame, const KestrelTensorView *const *fp32_outputs,
                                           const KestrelTensorView *const *outputs, guint n_outputs,
                                           gpointer user_data);

/* Runs the search for `table` (a calibration of `model`, without FP32
 * layers of its own: any are cleared first) over frames 0 .. n_frames - 1
 * and records the result in it. `progress` (may be NULL) counts the plans
 * tried against an upper bound of them. `agree` (may be NULL) adds the
 * caller's goal. When no mix reaches the goal
 * (every candidate FP32 does not), every candidate stays FP32 and the
 * summary says what was reached. Errors: planning or a frame's fill
 * failed, G_IO_ERROR_CANCELLED (checked between plans). The table must
 * not be shared with plans while this runs. */
gboolean kestrel_mixed_precision_search (KestrelModel *model, KestrelQuantTable *table, guint n_frames,
                                         KestrelCalibrationInputFunc fill_input, gpointer user_data,
                                         double goal_db, KestrelMixedAgreeFunc agree, gpointer agree_data,
                                         KestrelCalibrationProgressFunc progress,
                                         gpointer progress_data, GCancellable *cancellable, GError **error);

/* kestrel_calibrate() with `method`, then the search with `goal_db`: a
 * table ready for mixed INT8 plans. `search_progress` as above (the
 * calibration's own progress is the fill callback's). */
KestrelQuantTable *kestrel_calibrate_mixed (KestrelModel *model, const KestrelCalibrationMethod *method,
                                            guint n_frames, KestrelCalibrationInputFunc fill_input,
                                            gpointer user_data, double goal_db, KestrelMixedAgreeFunc agree,
                                            gpointer agree_data, KestrelCalibrationProgressFunc search_progress,
                                            gpointer progress_data, GCancellable *cancellable, GError **error);

G_END_DECLS
