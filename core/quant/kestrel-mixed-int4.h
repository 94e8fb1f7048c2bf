/* kestrel-mixed-int4.h — which convolutions an INT4 plan keeps INT8: the
 * INT4 half of the sensitivity search (kestrel-mixed-precision.h does the
 * INT8 half: which layers stay FP32).
 *
 * It starts from the table's INT8 mix (its FP32 layers stay FP32; the
 * depthwise convolutions are INT8 in every INT4 plan) and asks the same
 * goal of the INT4 plan: every output of every calibration frame at
 * `goal_db` SQNR against FP32 and, with `agree`, the caller's check. The
 * candidates are the convolutions the INT4 plan makes INT4:
 *
 *   1. the plan with every candidate INT4 meets the goal: none stays INT8;
 *   2. else each candidate's sensitivity is the worst output SQNR with only
 *      it INT4 (the others INT8), and the candidates, most sensitive first,
 *      are kept INT8 in the shortest prefix that meets the goal (every
 *      length tried, shortest first: there are a dozen at most here), then
 *      each kept one, least sensitive first, goes back to INT4 while the
 *      goal still holds;
 *   3. the mix is checked once more as the engine builds it (float steps on
 *      the reference kernels), and while that fails the most sensitive
 *      candidate left INT4 is kept INT8 too.
 *
 * The result goes into the table (kestrel_quant_table_set_int8_layers), so
 * kestrel_plan_new() applies it to INT4 plans, and into the table's file
 * ("int4", kestrel-quant-table-file.h): the runtime writes the user
 * cache's table again once this ran on it. `progress` (may be NULL) counts
 * the plans tried against an upper bound of them.
 */
#pragma once

#include "kestrel-mixed-precision.h"

G_BEGIN_DECLS

gboolean kestrel_mixed_int4_search (KestrelModel *model, KestrelQuantTable *table, guint n_frames,
                                    KestrelCalibrationInputFunc fill_input, gpointer user_data, double goal_db,
                                    KestrelMixedAgreeFunc agree, gpointer agree_data,
                                    KestrelCalibrationProgressFunc progress, gpointer progress_data,
                                    GCancellable *cancellable, GError **error);

G_END_DECLS
