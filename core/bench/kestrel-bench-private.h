/* kestrel-bench-private.h — what the files of core/bench/ share and nobody
 * else needs. */
#pragma once

#include "kestrel-bench.h"
#include "kestrel-plugin.h"

G_BEGIN_DECLS

/* The photos of `dir` (sorted by name, those gdk-pixbuf decodes) as inputs
 * of the shape of `input`: a float32 batch-1 image tensor, NCHW [1,3,H,W]
 * or NHWC [1,H,W,3], pixels mapped to [-1, 1] (BlazeFace's range; for a
 * model that expects another, the comparison of precisions on the same
 * input still holds). GBytes of input->n_elements floats each; an empty
 * array when the input is not an image or the folder has no photos. */
GPtrArray *kestrel_bench_photo_inputs (const KestrelTensorView *input, const char *dir);

/* Faces agreeing (kestrel-bench-faces.c): the model's task decoder and
 * FP32's faces on each photo. NULL when no plugin decodes the model (the
 * column is then left unmeasured). */
typedef struct _KestrelBenchFaces KestrelBenchFaces;
KestrelBenchFaces *kestrel_bench_faces_new (KestrelModel *model, const char *model_name);
void kestrel_bench_faces_free (KestrelBenchFaces *faces);
/* Decodes item 0 of the FP32 reference plan as the next photo's faces. */
gboolean kestrel_bench_faces_add_reference (KestrelBenchFaces *faces, KestrelPlan *plan);
/* Decodes item `item` of a cell's plan (photo `photo`) and adds how it
 * agrees with FP32's faces on that photo to the cell's counts. */
void kestrel_bench_faces_compare (KestrelBenchFaces *faces, KestrelPlan *plan, guint item, guint photo,
                                  KestrelBenchCell *cell);

G_END_DECLS
