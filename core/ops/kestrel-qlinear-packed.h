/* kestrel-qlinear-packed.h — whether a QLinearConv or QLinearMatMul can run
 * on Kestrel's integer kernels (core/ops/ops-qlinear-packed.c), for the
 * planning pass (graph/kestrel-passes-qlinear.c) that moves it there.
 */
#pragma once

#include "kestrel-graph.h"

G_BEGIN_DECLS

/* TRUE when `node` (a QLinearConv or QLinearMatMul with its shapes
 * inferred) fits kestrel.QLinearConvPacked / kestrel.QLinearMatMulPacked
 * bit for bit; otherwise FALSE with *why (static text) saying what keeps it
 * on the reference loop. */
gboolean kestrel_qlinear_packable (const KestrelGraph *graph, const KestrelNode *node, const char **why);

G_END_DECLS
