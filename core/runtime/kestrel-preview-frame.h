/* kestrel-preview-frame.h — a processed frame, copied for display.
 *
 * The engine lends frames to its pipeline only until the next frame, so a
 * window that wants to show "what the model just saw" gets a copy: the
 * pixels in a display format (RGB8, RGBA8 or BGRA8, which map one to one
 * onto GdkMemoryFormat) and the detections found in that frame, in its
 * pixels. A preview frame is immutable and ref-counted, so it can cross
 * from the worker thread to the UI thread as it is.
 */
#pragma once

#include <glib-object.h>

#include "kestrel-detection.h"
#include "kestrel-kernels.h"

G_BEGIN_DECLS

typedef struct {
  GBytes *pixels;                 /* rows of `stride` bytes */
  guint width, height;
  gsize stride;
  kk_pixel_format format;         /* KK_PIXEL_RGB8, _RGBA8 or _BGRA8 */
  guint64 index;                  /* the source's frame index */
  KestrelDetections *detections;  /* never NULL */
} KestrelPreviewFrame;

#define KESTREL_TYPE_PREVIEW_FRAME (kestrel_preview_frame_get_type ())
GType                kestrel_preview_frame_get_type (void) G_GNUC_CONST;

/* Copies @image (any kk_pixel_format; gray becomes RGB8, BGRX8 becomes
 * BGRA8 with an opaque alpha) and takes a reference to @detections. */
KestrelPreviewFrame *kestrel_preview_frame_new_copy (const kk_image_view *image,
                                                     guint64              index,
                                                     KestrelDetections   *detections);
KestrelPreviewFrame *kestrel_preview_frame_ref      (KestrelPreviewFrame *self);
void                 kestrel_preview_frame_unref    (KestrelPreviewFrame *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelPreviewFrame, kestrel_preview_frame_unref)

G_END_DECLS
