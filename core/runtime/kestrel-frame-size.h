/* kestrel-frame-size.h — planning a model whose picture input leaves its
 * height or width free at the size of the frames it is given.
 *
 * Plans are static (kestrel-input-shape.h): a size the file leaves free
 * must be given before planning. When the user gives none, the engine
 * plans the picture input at the frames' size by this rule:
 *
 *   1. fit: the frame, keeping its aspect, with its longer side at most
 *      KESTREL_FRAME_SIZE_MAX_SIDE (640) pixels; a side the model fixes
 *      stays as fixed and the free one follows the frame's aspect;
 *   2. round: each free side up to a multiple of m, the first of
 *      1, 32, 64, 128 at which the model plans (a detector whose feature
 *      pyramid adds an upsampled map to a finer one only plans when every
 *      downsampling divides the side: 600x400 becomes 608x416 for a
 *      network that halves five times, while a MobileNet that pads each
 *      stride takes 600x400 as it is);
 *   3. a free batch dimension is 1 (the engine's batch ladder sets others).
 *
 * Capping keeps plans (arena, time per frame) bounded whatever the camera
 * or photo; 640 is 5 x 128, so a capped side is a multiple of every m.
 */
#pragma once

#include "kestrel-model.h"

G_BEGIN_DECLS

#define KESTREL_FRAME_SIZE_MAX_SIDE 640u

/* The first graph input of a model when it is a picture (4 dimensions, 3
 * channels first or last) whose height or width the file leaves free and
 * the caller's input shapes do not give. */
typedef struct {
  char *name;
  gboolean nhwc;
  gint64 height, width;   /* the file's, or -1 when free */
  gint64 batch;           /* the file's, 1 when free */
} KestrelFrameSizedInput;

/* TRUE and `out` filled (clear it with kestrel_frame_sized_input_clear)
 * when `graph`'s first input takes the frame's size: a picture with a free
 * height or width that no spec of `given` ("NAME=..." list, may be NULL)
 * names. */
gboolean kestrel_frame_sized_input_find (const KestrelGraph *graph, const char *const *given,
                                         KestrelFrameSizedInput *out);
void kestrel_frame_sized_input_clear (KestrelFrameSizedInput *input);

/* "x=1x3x416x608": the input at width x height (a side the file fixes
 * stays as fixed), for input shapes. */
char *kestrel_frame_sized_input_spec (const KestrelFrameSizedInput *input, guint width, guint height)
  G_GNUC_WARN_UNUSED_RESULT;

/* Steps 1 and 2 of the rule for a frame of frame_width x frame_height and
 * multiple `multiple`: the input's height and width. */
void kestrel_frame_size_fit (const KestrelFrameSizedInput *input, guint frame_width, guint frame_height,
                             guint multiple, guint *width, guint *height);

/* Loads `graph` (not taken) with `given` and the picture input at the
 * rule's size for the frame, trying the multiples in order. *multiple,
 * *width, *height receive what was planned. On failure the error is the
 * last try's, naming the size. */
KestrelModel *kestrel_frame_size_load_model (const KestrelGraph *graph, const char *origin,
                                             const char *const *given, const KestrelFrameSizedInput *input,
                                             guint frame_width, guint frame_height, guint *multiple,
                                             guint *width, guint *height, GError **error);

G_END_DECLS
