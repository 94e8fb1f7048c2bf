/* source-gst.h — the appsink path the GStreamer frame sources share.
 *
 *   head elements ! videoconvert ! videoscale ! appsink caps=video/x-raw,
 *     format=F[,width=W][,height=H],pixel-aspect-ratio=1/1
 *
 * The head is what differs: uridecodebin for files, videotestsrc for the
 * test pattern, a camera element followed by decodebin for cameras. A head
 * with dynamic pads (a decodebin) links its first video pad to videoconvert
 * and parks any other stream (audio, subtitles) in a fakesink.
 */
#pragma once

#include <gst/gst.h>

#include "kestrel-plugin.h"

G_BEGIN_DECLS

typedef struct {
  const char *what;          /* names the source in messages: a file, a device */
  const char *frame_name;    /* what frames are called, or NULL */
  kk_pixel_format format;
  guint width, height;       /* 0: as the head gives */
  gboolean live;             /* a camera: no preroll, no seeking, keep only the newest frame */
  gboolean loop;             /* seek back to `start` at the end */
  double start;              /* seconds */
  double end;                /* seconds, or < 0 for the end of the stream */
  /* A local file played: at each end of the stream its size and
   * modification time are compared with those at open, and a change (cut
   * short, rewritten, deleted while played) is one ERROR naming it, after
   * which the frames go on from what is there. NULL: nothing watched. */
  const char *watch_path;
} SourceGstConfig;

typedef struct _SourceGst SourceGst;

/* gst_init_check(), once. */
gboolean source_gst_init (GError **error);

/* A GStreamer element by factory name; the error says which package has
 * it when it is missing. */
GstElement *source_gst_make_element (const char *factory, const char *name, GError **error);

/* Builds the pipeline around `head` (elements linked in order, taken, the
 * last with dynamic pads when `dynamic_pads`) and starts it: a file must
 * preroll (and seek to `start`), a live source must give its first frame.
 * Errors are GStreamer's own. */
SourceGst *source_gst_new (const SourceGstConfig *config, GstElement *const *head, guint n_head,
                           gboolean dynamic_pads, GError **error);
/* Typed as a KestrelFrameSourceVTable's next_frame and close, so the
 * sources built on this put them in their vtables as they are. */
KestrelFrameStatus source_gst_next_frame (gpointer source, KestrelFrame *frame,
                                          GCancellable *cancellable, GError **error);
void source_gst_free (gpointer source);

/* format= to a GStreamer video format name. */
const char *source_gst_format_name (kk_pixel_format format);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SourceGst, source_gst_free)

G_END_DECLS
