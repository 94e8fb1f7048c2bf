/* kestrel-image.h — still images decoded with gdk-pixbuf, and turning any
 * frame into a model's image input.
 *
 * Decoding applies the EXIF orientation, so a photo is the way up its
 * viewer shows it, and gives RGB8 or RGBA8 rows (alpha is ignored by the
 * model input). gdk-pixbuf stays out of this header: callers see a
 * kk_image_view.
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-kernels.h"
#include "kestrel-plan.h"

G_BEGIN_DECLS

typedef struct _KestrelImage KestrelImage;

/* The largest image decoded: 128 megapixels (512 MB as RGBA), more than
 * any camera a laptop meets; a small file can claim any size in its
 * header, and this stops it before the pixels are allocated. */
#define KESTREL_IMAGE_MAX_PIXELS (128u * 1000u * 1000u)

/* Errors name the file and say why (missing, not a regular file, too
 * large, unreadable, not an image, corrupt or truncated). The file is read
 * with kestrel_file_read(), so its size is capped too. */
KestrelImage *kestrel_image_new_from_file (const char *path, GError **error);
/* `origin` names the image in errors. */
KestrelImage *kestrel_image_new_from_bytes (GBytes *bytes, const char *origin, GError **error);
KestrelImage *kestrel_image_ref (KestrelImage *self);
void kestrel_image_unref (KestrelImage *self);

guint kestrel_image_get_width (const KestrelImage *self);
guint kestrel_image_get_height (const KestrelImage *self);
/* Valid as long as the image. */
const kk_image_view *kestrel_image_get_view (const KestrelImage *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelImage, kestrel_image_unref)

/* Fills a float32 NHWC [1,H,W,3] or NCHW [1,3,H,W] tensor from a frame with
 * the model_input kernel of `kernels` (scalar or SIMD), and reports where the
 * frame landed (for decoders). The tensor must have the size in `params`;
 * kestrel_image_check_input() says whether it has. */
void kestrel_image_fill_tensor (const kk_image_view *frame, const kk_model_input_params *params,
                                const kk_kernels *kernels, float *tensor,
                                kk_model_input_geometry *geometry);

/* Whether `view` is a float32 batch-1 image tensor of the layout and size
 * of `params`; the error names the tensor's shape and the one expected. */
gboolean kestrel_image_check_input (const KestrelTensorView *view, const kk_model_input_params *params,
                                    GError **error);

/* Fills plan input `input` from a frame with the kernels of the plan's
 * level, ready for kestrel_plan_run(). */
gboolean kestrel_image_fill_plan_input (KestrelPlan *plan, guint input, const kk_image_view *frame,
                                        const kk_model_input_params *params,
                                        kk_model_input_geometry *geometry, GError **error);

G_END_DECLS
