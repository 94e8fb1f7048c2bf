/* kestrel-preview.h — the frame the model just saw, with what it found.
 *
 * Shows a KestrelPreviewFrame (core/runtime/kestrel-preview-frame.h) scaled to fit,
 * aspect kept and centred, with each detection's box, score and keypoints
 * drawn over it, and a line with the frame rate and latency in a corner.
 * Without a frame it shows a placeholder. Colours come from ui/style.css
 * (the accent colour), so light, dark and high contrast styles apply.
 *
 * Cheap by design: a new frame or a new size is the only thing that makes
 * it draw the picture again; setting the frame it already shows does
 * nothing.
 */
#pragma once

#include <gtk/gtk.h>

#include "kestrel-preview-frame.h"

G_BEGIN_DECLS

#define KESTREL_TYPE_PREVIEW (kestrel_preview_get_type ())

G_DECLARE_FINAL_TYPE (KestrelPreview, kestrel_preview, KESTREL, PREVIEW, GtkWidget)

GtkWidget           *kestrel_preview_new       (void);
/* Takes a reference to @frame; NULL shows the placeholder. */
void                 kestrel_preview_set_frame (KestrelPreview      *self,
                                                KestrelPreviewFrame *frame);
KestrelPreviewFrame *kestrel_preview_get_frame (KestrelPreview      *self);
/* The overlay line "12.3 fps · 8.1 ms"; NAN hides a number, both NAN hide
 * the line. */
void                 kestrel_preview_set_rate  (KestrelPreview      *self,
                                                double               fps,
                                                double               latency_ms);

G_END_DECLS
