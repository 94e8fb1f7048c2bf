/* conformance-classes.h — which ONNX operators the conformance table holds
 * Kestrel to (the ones vision models use), and why the others are out.
 *
 * The table (docs/conformance.md) counts a case as a vision case when every
 * operator of its model is a vision operator; those must all pass or the
 * table says, case by case, why one does not. */
#pragma once

#include <glib.h>

/* NULL for a vision operator (every ONNX operator not listed as out);
 * else why Kestrel leaves it out, as a phrase ("training: losses and
 * optimisers"). */
const char *conformance_op_out_reason (const char *op_type);

/* The reasons, each once, in a fixed order, with the operators of each
 * that `present` holds (op type strings), for the table's summary.
 * Calls `each` per reason that has at least one present operator. */
void conformance_foreach_out_reason (GPtrArray *present,
                                     void (*each) (const char *reason, GPtrArray *ops, gpointer data),
                                     gpointer data);
