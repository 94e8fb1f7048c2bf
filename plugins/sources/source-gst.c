/* source-gst.c — see source-gst.h.
 *
 * The caller's thread pulls from the appsink; GStreamer's streaming threads
 * only ever report: a new sample, end of stream, an error, preroll done.
 * They bump `wakeups` under the lock and signal the condition, and
 * next_frame() waits on it, so a source waiting for a camera costs no CPU
 * (no polling) and a cancellation wakes it at once.
 *
 * Every bus message is handled in the bus's sync handler and dropped:
 * nobody runs a main loop for these pipelines, and a bus nobody pops grows
 * without bound over a day of running.
 *
 * Frames are copied out of GStreamer's buffer into a pooled buffer
 * (sources-common.h) and the sample is dropped at once, so the decoder can
 * work ahead into its own buffer pool while the caller holds the frame.
 * appsink keeps at most 2 decoded frames (1 for a camera, dropping older
 * ones, so a slow consumer sees the newest picture rather than the backlog).
 *
 * pts_us counts from the first frame of the source (the `start` of a file)
 * and keeps increasing across loops: each pass starts where the previous
 * one's last frame ended.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <string.h>

#include "kestrel-error.h"
#include "source-gst.h"
#include "sources-common.h"

/* How long a file may take to preroll, and a camera to give its first
 * frame, before open() gives up. */
#define PREROLL_TIMEOUT_US (30 * G_TIME_SPAN_SECOND)

static gboolean watch_stat (const char *path, goffset *size, gint64 *mtime_us);
#define FIRST_FRAME_TIMEOUT_US (10 * G_TIME_SPAN_SECOND)

struct _SourceGst {
  char *what;
  char *frame_name;
  kk_pixel_format format;
  gboolean live;
  gboolean loop;
  GstClockTime start;
  GstClockTime stop;          /* GST_CLOCK_TIME_NONE: the end of the stream */

  GstElement *pipeline;
  GstElement *convert;        /* dynamic head pads link to its sink pad */
  GstAppSink *sink;
  GstBus *bus;

  GMutex lock;
  GCond cond;
  /* Under the lock: */
  guint64 wakeups;
  guint eos_count;            /* ends of stream seen by the appsink */
  GError *error;              /* the first error the pipeline reported */
  gboolean async_done;
  gboolean got_sample;
  gboolean video_linked;

  /* The caller's thread only: */
  gboolean failed;            /* the error went out: END from now on */
  gboolean ended;
  guint eos_handled;
  guint64 frames_in_pass;
  gboolean have_origin;
  GstClockTime origin;        /* stream time of pts_us 0 in this pass */
  GstClockTime pass_offset;   /* pts of this pass's first frame */
  GstClockTime next_pass;     /* where the next pass would start */
  GstCaps *caps;              /* of the last sample, parsed into `info` */
  GstVideoInfo info;
  GCancellable *cancellable;
  gulong cancelled_id;
  SourceFrameBuffer buffer;

  /* SourceGstConfig.watch_path, and what it was when last looked at. */
  char *watch_path;
  gboolean watch_exists;
  goffset watch_size;
  gint64 watch_mtime_us;
};

gboolean
source_gst_init (GError **error)
{
  static gsize done;
  static GError *init_error;

  if (g_once_init_enter (&done))
    {
      if (!gst_init_check (NULL, NULL, &init_error) && init_error == NULL)
        g_set_error_literal (&init_error, KESTREL_ERROR, KESTREL_ERROR_DEPENDENCY,
                             "GStreamer failed to initialise");
      g_once_init_leave (&done, 1);
    }
  if (init_error != NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_DEPENDENCY, "GStreamer: %s", init_error->message);
      return FALSE;
    }
  return TRUE;
}

GstElement *
source_gst_make_element (const char *factory, const char *name, GError **error)
{
  static const struct {
    const char *factory;
    const char *package;
  } packages[] = {
    { "videoconvert", "gstreamer1.0-plugins-base" },
    { "videoscale", "gstreamer1.0-plugins-base" },
    { "videotestsrc", "gstreamer1.0-plugins-base" },
    { "uridecodebin", "gstreamer1.0-plugins-base" },
    { "decodebin", "gstreamer1.0-plugins-base" },
    { "appsink", "gstreamer1.0-plugins-base" },
    { "capsfilter", "libgstreamer1.0-0" },
    { "fakesink", "libgstreamer1.0-0" },
    { "v4l2src", "gstreamer1.0-plugins-good" },
  };
  GstElement *element = gst_element_factory_make (factory, name);

  if (element == NULL)
    {
      const char *package = NULL;
      for (guint i = 0; i < G_N_ELEMENTS (packages); i++)
        if (strcmp (packages[i].factory, factory) == 0)
          package = packages[i].package;
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_DEPENDENCY,
                   "the GStreamer element '%s' is missing%s%s%s", factory,
                   package != NULL ? " (Debian package " : "", package != NULL ? package : "",
                   package != NULL ? ")" : "");
    }
  return element;
}

const char *
source_gst_format_name (kk_pixel_format format)
{
  switch (format)
    {
    case KK_PIXEL_GRAY8:
      return "GRAY8";
    case KK_PIXEL_RGB8:
      return "RGB";
    case KK_PIXEL_RGBA8:
      return "RGBA";
    case KK_PIXEL_BGRA8:
      return "BGRA";
    case KK_PIXEL_BGRX8:
      return "BGRx";
    case KK_PIXEL_COUNT:
    default:
      return NULL;
    }
}

/* ---- Reports from the streaming threads ------------------------------------ */

static void
wake_locked (SourceGst *self)
{
  self->wakeups++;
  g_cond_broadcast (&self->cond);
}

/* Keeps the first error: later ones are usually its consequences. */
static void
report_error (SourceGst *self, GError *error)
{
  g_mutex_lock (&self->lock);
  if (self->error == NULL)
    self->error = error;
  else
    g_error_free (error);
  wake_locked (self);
  g_mutex_unlock (&self->lock);
}

static GstBusSyncReply
on_bus_message (GstBus *bus, GstMessage *message, gpointer user_data)
{
  SourceGst *self = user_data;

  switch (GST_MESSAGE_TYPE (message))
    {
    case GST_MESSAGE_ERROR:
      {
        GError *error = NULL;
        g_autofree char *debug = NULL;

        gst_message_parse_error (message, &error, &debug);
        g_debug ("%s: GStreamer error from %s: %s (%s)", self->what, GST_MESSAGE_SRC_NAME (message),
                 error->message, debug != NULL ? debug : "no details");
        report_error (self, error);
      }
      break;

    case GST_MESSAGE_WARNING:
      {
        g_autoptr(GError) warning = NULL;
        g_autofree char *debug = NULL;

        gst_message_parse_warning (message, &warning, &debug);
        g_debug ("%s: GStreamer warning from %s: %s (%s)", self->what, GST_MESSAGE_SRC_NAME (message),
                 warning->message, debug != NULL ? debug : "no details");
      }
      break;

    case GST_MESSAGE_ASYNC_DONE:
      g_mutex_lock (&self->lock);
      self->async_done = TRUE;
      wake_locked (self);
      g_mutex_unlock (&self->lock);
      break;

    default:
      break;
    }
  /* A sync handler that drops a message owns it. */
  gst_message_unref (message);
  return GST_BUS_DROP;
}

static GstFlowReturn
on_new_sample (GstAppSink *sink, gpointer user_data)
{
  SourceGst *self = user_data;

  /* Only a wake-up: the sample stays queued in the appsink until the
   * caller's thread pulls it. */
  g_mutex_lock (&self->lock);
  self->got_sample = TRUE;
  wake_locked (self);
  g_mutex_unlock (&self->lock);
  return GST_FLOW_OK;
}

static void
on_eos (GstAppSink *sink, gpointer user_data)
{
  SourceGst *self = user_data;

  g_mutex_lock (&self->lock);
  self->eos_count++;
  wake_locked (self);
  g_mutex_unlock (&self->lock);
}

static void
on_cancelled (GCancellable *cancellable, gpointer user_data)
{
  SourceGst *self = user_data;

  g_mutex_lock (&self->lock);
  wake_locked (self);
  g_mutex_unlock (&self->lock);
}

static gboolean
caps_are_video (GstCaps *caps)
{
  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return FALSE;
  return g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure (caps, 0)), "video/");
}

/* A decodebin exposed a stream: the first video one goes on to
 * videoconvert, anything else to a fakesink so it never stalls the
 * demuxer. */
static void
on_pad_added (GstElement *element, GstPad *pad, gpointer user_data)
{
  SourceGst *self = user_data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  gboolean take = FALSE;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);

  if (caps_are_video (caps))
    {
      g_mutex_lock (&self->lock);
      take = !self->video_linked;
      self->video_linked = TRUE;
      g_mutex_unlock (&self->lock);
    }

  if (take)
    {
      g_autoptr(GstPad) sink_pad = gst_element_get_static_pad (self->convert, "sink");
      GstPadLinkReturn ret = gst_pad_link (pad, sink_pad);
      if (GST_PAD_LINK_FAILED (ret))
        report_error (self, g_error_new (KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                                         "cannot convert its video stream (%s)", gst_pad_link_get_name (ret)));
      return;
    }

  GstElement *fakesink = gst_element_factory_make ("fakesink", NULL);
  if (fakesink == NULL)
    return;
  g_object_set (fakesink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (self->pipeline), fakesink);
  gst_element_sync_state_with_parent (fakesink);
  g_autoptr(GstPad) fake_pad = gst_element_get_static_pad (fakesink, "sink");
  gst_pad_link (pad, fake_pad);
}

static void
on_no_more_pads (GstElement *element, gpointer user_data)
{
  SourceGst *self = user_data;

  g_mutex_lock (&self->lock);
  gboolean linked = self->video_linked;
  g_mutex_unlock (&self->lock);
  if (!linked)
    report_error (self, g_error_new_literal (KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED, "it has no video stream"));
}

/* ---- Opening ------------------------------------------------------------- */

void
source_gst_free (gpointer source)
{
  SourceGst *self = source;

  if (self == NULL)
    return;

  if (self->cancellable != NULL)
    {
      g_cancellable_disconnect (self->cancellable, self->cancelled_id);
      g_clear_object (&self->cancellable);
    }
  if (self->pipeline != NULL)
    {
      /* Joins the streaming threads: after this nothing calls back. */
      gst_element_set_state (self->pipeline, GST_STATE_NULL);
      if (self->bus != NULL)
        gst_bus_set_sync_handler (self->bus, NULL, NULL, NULL);
    }
  g_clear_object (&self->bus);
  g_clear_object (&self->sink);
  g_clear_object (&self->convert);
  g_clear_object (&self->pipeline);
  gst_clear_caps (&self->caps);
  source_frame_buffer_release (&self->buffer);
  g_clear_error (&self->error);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->what);
  g_free (self->watch_path);
  g_free (self->frame_name);
  g_free (self);
}

/* Takes the pipeline's error, or makes one saying what timed out. */
static gboolean
take_error (SourceGst *self, const char *otherwise, GError **error)
{
  g_mutex_lock (&self->lock);
  GError *pipeline_error = g_steal_pointer (&self->error);
  g_mutex_unlock (&self->lock);

  if (pipeline_error != NULL)
    g_propagate_error (error, pipeline_error);
  else
    g_set_error_literal (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, otherwise);
  return FALSE;
}

/* Waits until preroll finished (or, with `for_sample`, a frame arrived), an
 * error came, or the timeout passed. */
static gboolean
wait_for_start (SourceGst *self, gboolean for_sample, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  while (self->error == NULL && !(for_sample ? self->got_sample : self->async_done))
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline))
      {
        ok = self->error == NULL && (for_sample ? self->got_sample : self->async_done);
        break;
      }
  ok = ok && self->error == NULL;
  g_mutex_unlock (&self->lock);
  return ok;
}

static gboolean
seek_to_start (SourceGst *self)
{
  return gst_element_seek (self->pipeline, 1.0, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                           GST_SEEK_TYPE_SET, (gint64) self->start,
                           self->stop != GST_CLOCK_TIME_NONE ? GST_SEEK_TYPE_SET : GST_SEEK_TYPE_NONE,
                           self->stop != GST_CLOCK_TIME_NONE ? (gint64) self->stop : -1);
}

static gboolean
source_gst_start (SourceGst *self, GError **error)
{
  GstStateChangeReturn ret = gst_element_set_state (self->pipeline,
                                                    self->live ? GST_STATE_PLAYING : GST_STATE_PAUSED);

  if (ret == GST_STATE_CHANGE_FAILURE)
    return take_error (self, "the GStreamer pipeline did not start", error);
  if (ret == GST_STATE_CHANGE_NO_PREROLL && !self->live)
    {
      /* A network stream that turned out to be live. */
      self->live = TRUE;
      self->loop = FALSE;
      g_object_set (self->sink, "max-buffers", 1, "drop", TRUE, NULL);
    }

  if (self->live)
    {
      if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
        return take_error (self, "the GStreamer pipeline did not start", error);
      if (!wait_for_start (self, TRUE, FIRST_FRAME_TIMEOUT_US))
        return take_error (self, "no frame came within 10 s", error);
      return TRUE;
    }

  if (ret == GST_STATE_CHANGE_ASYNC && !wait_for_start (self, FALSE, PREROLL_TIMEOUT_US))
    return take_error (self, "it did not start playing within 30 s", error);

  if (self->start > 0 || self->stop != GST_CLOCK_TIME_NONE)
    {
      g_mutex_lock (&self->lock);
      self->async_done = FALSE;
      g_mutex_unlock (&self->lock);
      if (!seek_to_start (self))
        {
          g_set_error_literal (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                               "it cannot seek, so start= and end= cannot apply");
          return FALSE;
        }
      if (!wait_for_start (self, FALSE, PREROLL_TIMEOUT_US))
        return take_error (self, "it did not seek within 30 s", error);
    }

  if (gst_element_set_state (self->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return take_error (self, "the GStreamer pipeline did not start", error);
  return TRUE;
}

SourceGst *
source_gst_new (const SourceGstConfig *config, GstElement *const *head, guint n_head,
                gboolean dynamic_pads, GError **error)
{
  g_autoptr(SourceGst) self = g_new0 (SourceGst, 1);
  const char *format_name = source_gst_format_name (config->format);
  GstElement *scale, *sink;

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->what = g_strdup (config->what);
  if (config->watch_path != NULL)
    {
      self->watch_path = g_strdup (config->watch_path);
      self->watch_exists = watch_stat (self->watch_path, &self->watch_size, &self->watch_mtime_us);
    }
  self->frame_name = g_strdup (config->frame_name);
  self->format = config->format;
  self->live = config->live;
  self->loop = config->loop && !config->live;
  self->start = (GstClockTime) (config->start * GST_SECOND);
  self->stop = config->end >= 0 ? (GstClockTime) (config->end * GST_SECOND) : GST_CLOCK_TIME_NONE;

  /* Take the head first, so that it is freed on any error below. */
  self->pipeline = gst_object_ref_sink (gst_pipeline_new (NULL));
  for (guint i = 0; i < n_head; i++)
    gst_bin_add (GST_BIN (self->pipeline), head[i]);

  g_return_val_if_fail (format_name != NULL, NULL);
  if (self->stop != GST_CLOCK_TIME_NONE && self->stop <= self->start)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "end=%g is not after start=%g", config->end, config->start);
      return NULL;
    }

  /* Each element goes into the bin as soon as it exists, so the bin frees
   * it on any error. */
  if ((self->convert = source_gst_make_element ("videoconvert", NULL, error)) == NULL)
    return NULL;
  gst_bin_add (GST_BIN (self->pipeline), gst_object_ref (self->convert));
  if ((scale = source_gst_make_element ("videoscale", NULL, error)) == NULL)
    return NULL;
  gst_bin_add (GST_BIN (self->pipeline), scale);
  if ((sink = source_gst_make_element ("appsink", NULL, error)) == NULL)
    return NULL;
  gst_bin_add (GST_BIN (self->pipeline), sink);
  self->sink = GST_APP_SINK (gst_object_ref (sink));

  g_autoptr(GstCaps) caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, format_name,
                                                 "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  if (config->width > 0)
    gst_caps_set_simple (caps, "width", G_TYPE_INT, (int) config->width, NULL);
  if (config->height > 0)
    gst_caps_set_simple (caps, "height", G_TYPE_INT, (int) config->height, NULL);
  g_object_set (sink,
                "caps", caps,
                "sync", FALSE,
                "max-buffers", self->live ? 1 : 2,
                "drop", self->live,
                "enable-last-sample", FALSE,
                "emit-signals", FALSE,
                NULL);
  GstAppSinkCallbacks callbacks = { .eos = on_eos, .new_sample = on_new_sample };
  gst_app_sink_set_callbacks (self->sink, &callbacks, self, NULL);

  self->bus = gst_pipeline_get_bus (GST_PIPELINE (self->pipeline));
  gst_bus_set_sync_handler (self->bus, on_bus_message, self, NULL);

  for (guint i = 0; i + 1 < n_head; i++)
    if (!gst_element_link (head[i], head[i + 1]))
      {
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "cannot link %s to %s",
                     GST_ELEMENT_NAME (head[i]), GST_ELEMENT_NAME (head[i + 1]));
        return NULL;
      }
  if (dynamic_pads)
    {
      g_signal_connect (head[n_head - 1], "pad-added", G_CALLBACK (on_pad_added), self);
      g_signal_connect (head[n_head - 1], "no-more-pads", G_CALLBACK (on_no_more_pads), self);
    }
  else if (!gst_element_link (head[n_head - 1], self->convert))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "cannot link %s to videoconvert",
                   GST_ELEMENT_NAME (head[n_head - 1]));
      return NULL;
    }
  if (!gst_element_link_many (self->convert, scale, sink, NULL))
    {
      g_set_error_literal (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "cannot link videoconvert to appsink");
      return NULL;
    }

  if (!source_gst_start (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

/* ---- Frames -------------------------------------------------------------- */

static void
watch_cancellable (SourceGst *self, GCancellable *cancellable)
{
  if (cancellable == self->cancellable)
    return;
  /* Connected once per cancellable rather than per frame: connecting
   * allocates, and the frame path must not. */
  if (self->cancellable != NULL)
    {
      g_cancellable_disconnect (self->cancellable, self->cancelled_id);
      g_clear_object (&self->cancellable);
      self->cancelled_id = 0;
    }
  if (cancellable != NULL)
    {
      self->cancellable = g_object_ref (cancellable);
      self->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), self, NULL);
    }
}

/* At the end of the stream: seek back to the start, or end. */
static gboolean
rewind_stream (SourceGst *self)
{
  if (!self->loop || self->frames_in_pass == 0)
    return FALSE;
  if (!seek_to_start (self))
    {
      g_debug ("%s: cannot seek back to the start, so it ends", self->what);
      return FALSE;
    }
  self->frames_in_pass = 0;
  self->pass_offset = self->next_pass;
  return TRUE;
}

/* Size and modification time of a watched file; FALSE when it is gone. */
static gboolean
watch_stat (const char *path, goffset *size, gint64 *mtime_us)
{
  GStatBuf buf;

  if (g_stat (path, &buf) != 0)
    return FALSE;
  *size = buf.st_size;
  *mtime_us = (gint64) buf.st_mtim.tv_sec * G_USEC_PER_SEC + buf.st_mtim.tv_nsec / 1000;
  return TRUE;
}

/* At an end of the stream: whether the watched file changed since it was
 * last looked at. A truncated video otherwise just ends early and loops
 * over what is left, and a deleted one plays on from the open file, both
 * without a word. Each change is told once. */
static gboolean
watched_file_changed (SourceGst *self, GError **error)
{
  goffset size = 0;
  gint64 mtime_us = 0;
  gboolean exists;

  if (self->watch_path == NULL)
    return FALSE;
  exists = watch_stat (self->watch_path, &size, &mtime_us);
  if (exists == self->watch_exists && (!exists || (size == self->watch_size && mtime_us == self->watch_mtime_us)))
    return FALSE;

  if (!exists)
    g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                 "%s was deleted while it was played; it plays on from the copy still open", self->what);
  else if (!self->watch_exists)
    g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                 "%s was replaced while it was played; it plays on from the file opened first", self->what);
  else
    {
      g_autofree char *now = g_format_size (size), *then = g_format_size (self->watch_size);

      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s changed while it was played (%s now, %s before)%s", self->what, now, then,
                   size < self->watch_size ? ": it was cut short, and plays on from what is left" : "");
    }
  self->watch_exists = exists;
  self->watch_size = size;
  self->watch_mtime_us = mtime_us;
  return TRUE;
}

static KestrelFrameStatus
copy_sample (SourceGst *self, GstSample *sample, KestrelFrame *frame, GError **error)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstCaps *caps = gst_sample_get_caps (sample);
  const GstSegment *segment = gst_sample_get_segment (sample);
  GstVideoFrame video;

  if (buffer == NULL || caps == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: GStreamer gave a sample with no video",
                   self->what);
      return KESTREL_FRAME_ERROR;
    }
  if (caps != self->caps)
    {
      if (!gst_video_info_from_caps (&self->info, caps))
        {
          g_autofree char *text = gst_caps_to_string (caps);
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED, "%s: unexpected frame caps %s",
                       self->what, text);
          return KESTREL_FRAME_ERROR;
        }
      gst_caps_replace (&self->caps, caps);
    }
  if (!gst_video_frame_map (&video, &self->info, buffer, GST_MAP_READ))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "%s: cannot read a frame's pixels", self->what);
      return KESTREL_FRAME_ERROR;
    }
  gboolean copied = source_frame_buffer_copy (&self->buffer, GST_VIDEO_FRAME_PLANE_DATA (&video, 0),
                                              GST_VIDEO_FRAME_WIDTH (&video), GST_VIDEO_FRAME_HEIGHT (&video),
                                              GST_VIDEO_FRAME_PLANE_STRIDE (&video, 0), self->format,
                                              &frame->image, error);
  gst_video_frame_unmap (&video);
  if (!copied)
    return KESTREL_FRAME_ERROR;

  GstClockTime buffer_pts = GST_BUFFER_PTS (buffer);
  guint64 stream_time = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID (buffer_pts) && segment != NULL && segment->format == GST_FORMAT_TIME)
    stream_time = gst_segment_to_stream_time (segment, GST_FORMAT_TIME, buffer_pts);

  frame->pts_us = -1;
  if (GST_CLOCK_TIME_IS_VALID (stream_time))
    {
      if (!self->have_origin)
        {
          /* A file counts from `start`; a camera from its first frame. */
          self->origin = self->live ? stream_time : self->start;
          self->have_origin = TRUE;
        }
      GstClockTime relative = stream_time > self->origin ? stream_time - self->origin : 0;
      GstClockTime duration = GST_BUFFER_DURATION (buffer);
      if (!GST_CLOCK_TIME_IS_VALID (duration) && self->info.fps_n > 0)
        duration = gst_util_uint64_scale (GST_SECOND, self->info.fps_d, self->info.fps_n);
      if (!GST_CLOCK_TIME_IS_VALID (duration))
        duration = 0;
      /* In nanoseconds until the end, so that rounding never makes a
       * pass start a microsecond early. */
      GstClockTime pts = self->pass_offset + relative;
      frame->pts_us = (gint64) GST_TIME_AS_USECONDS (pts);
      self->next_pass = pts + MAX (duration, GST_USECOND);
    }
  frame->name = self->frame_name;
  self->frames_in_pass++;
  return KESTREL_FRAME_OK;
}

KestrelFrameStatus
source_gst_next_frame (gpointer source, KestrelFrame *frame, GCancellable *cancellable, GError **error)
{
  SourceGst *self = source;

  if (self->ended)
    return KESTREL_FRAME_END;
  if (self->failed)
    {
      /* The error went out with the previous call; a stopped pipeline
       * gives nothing more. */
      self->ended = TRUE;
      return KESTREL_FRAME_END;
    }

  /* The caller is done with the previous frame. */
  source_frame_buffer_release (&self->buffer);
  /* A cancelled call gives no frame, even one that is waiting. */
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return KESTREL_FRAME_ERROR;
  watch_cancellable (self, cancellable);

  for (;;)
    {
      g_mutex_lock (&self->lock);
      guint64 seen = self->wakeups;
      guint eos_count = self->eos_count;
      GError *pipeline_error = g_steal_pointer (&self->error);
      g_mutex_unlock (&self->lock);

      if (pipeline_error != NULL)
        {
          self->failed = TRUE;
          g_set_error (error, pipeline_error->domain, pipeline_error->code, "%s: %s", self->what,
                       pipeline_error->message);
          g_error_free (pipeline_error);
          return KESTREL_FRAME_ERROR;
        }

      GstSample *sample = gst_app_sink_try_pull_sample (self->sink, 0);
      if (sample != NULL)
        {
          KestrelFrameStatus status = copy_sample (self, sample, frame, error);
          gst_sample_unref (sample);
          return status;
        }

      /* Counted rather than asked with gst_app_sink_is_eos(): the samples
       * before the end were queued before it was counted, so the queue is
       * known to be drained, and an end from before a seek back is never
       * mistaken for the end of the new pass. */
      if (eos_count != self->eos_handled)
        {
          g_autoptr(GError) changed = NULL;

          self->eos_handled = eos_count;
          watched_file_changed (self, &changed);
          if (!rewind_stream (self))
            self->ended = TRUE;
          /* Said once; the next call goes on (or ends). */
          if (changed != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&changed));
              return KESTREL_FRAME_ERROR;
            }
          if (self->ended)
            return KESTREL_FRAME_END;
          continue;
        }

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return KESTREL_FRAME_ERROR;

      g_mutex_lock (&self->lock);
      while (self->wakeups == seen && !g_cancellable_is_cancelled (cancellable))
        g_cond_wait (&self->cond, &self->lock);
      g_mutex_unlock (&self->lock);
    }
}
