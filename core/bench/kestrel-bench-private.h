/* kestrel-bench-private.h — what the files of core/bench/ share and nobody
 * else needs. */
#pragma once

#include "kestrel-bench.h"

G_BEGIN_DECLS

/* The photos of `dir` (sorted by name, those gdk-pixbuf decodes) as inputs
 * of the shape of `input`: a float32 batch-1 image tensor, NCHW [1,3,H,W]
 * or NHWC [1,H,W,3], pixels mapped to [-1, 1] (BlazeFace's range; for a
 * model that expects another, the comparison of precisions on the same
 * input still holds). GBytes of input->n_elements floats each; an empty
 * array when the input is not an image or the folder has no photos. */
GPtrArray *kestrel_bench_photo_inputs (const KestrelTensorView *input, const char *dir);

G_END_DECLS
