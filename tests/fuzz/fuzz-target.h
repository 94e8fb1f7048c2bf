/* fuzz-target.h — what every fuzz target shares: libFuzzer's entry point
 * and the set-up each target does once.
 *
 * A target is built twice (tests/fuzz/meson.build): with libFuzzer in the
 * clang tree scripts/fuzz.sh sets up, and with fuzz-replay.c in every
 * ordinary build, which feeds it the committed corpus and the crash
 * regressions so that the ordinary and the ASan suites replay them too.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

#include "kestrel-kernels.h"
#include "kestrel-plugin.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A library's own precondition that its own code breaks on bad input, not
 * Kestrel's call (Kestrel never calls the function): gdk-pixbuf's GIF
 * loader (2.42.10, Debian 12) asks gdk_pixbuf_calculate_rowstride for a
 * frame of width or height 0 when a file declares one
 * (regressions/image/gif-frame-width-0.gif, gif-frame-height-0.gif); that
 * pixbuf is never made, the loader fails, and the images source reports
 * the file as a source error and goes on with the next (as it does in
 * kestrel-cli run). Only that function's criticals are let through. */
static inline gboolean
fuzz_log_is_library_defect (const GLogField *fields, gsize n_fields)
{
  const char *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
      domain = fields[i].value;
    else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
      message = fields[i].value;
  return g_strcmp0 (domain, "GdkPixbuf") == 0 && message != NULL
         && g_str_has_prefix (message, "gdk_pixbuf_calculate_rowstride: assertion ");
}

/* Messages of bad input are expected by the thousand and only slow the
 * fuzzer down, so they are dropped; a critical is a precondition a caller
 * broke (g_return_if_fail) and an error is an abort anyway: both are
 * crashes the fuzzer must report, except the one library defect above. */
static inline GLogWriterOutput
fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  if ((level & G_LOG_LEVEL_CRITICAL) && fuzz_log_is_library_defect (fields, n_fields))
    return G_LOG_WRITER_HANDLED;
  if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR))
    {
      g_log_writer_standard_streams (level, fields, n_fields, user_data);
      abort ();
    }
  return G_LOG_WRITER_HANDLED;
}

/* Called at the start of every input: only the first call does anything
 * (GLib takes one writer per process). */
static inline void
fuzz_init_logging (void)
{
  static gboolean done;

  if (!done)
    g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
  done = TRUE;
}

/* A GError set by a function that failed: a failure without one, or one
 * without a message, is a bug in the error path. */
static inline void
fuzz_check_error (gboolean ok, GError *error)
{
  if (!ok && (error == NULL || error->message == NULL || error->message[0] == '\0'))
    {
      g_printerr ("failed without an error message\n");
      abort ();
    }
  if (ok && error != NULL)
    {
      g_printerr ("succeeded with an error set: %s\n", error->message);
      abort ();
    }
}

/* Reads the last byte of every row of a frame a source lent, so that the
 * sanitizers see a frame that is not all there. */
static volatile guint8 fuzz_sink;

static inline void
fuzz_touch_frame (const kk_image_view *view)
{
  gsize row = view->width * kk_pixel_format_channels (view->format);

  if (view->format >= KK_PIXEL_COUNT || view->stride < row)
    {
      g_printerr ("a frame with format %d, stride %zu for a row of %zu bytes\n",
                  (int) view->format, view->stride, row);
      abort ();
    }
  if (row == 0)
    return;
  for (gsize y = 0; y < view->height; y++)
    fuzz_sink ^= view->data[y * view->stride + row - 1];
}

/* A registry holding this build tree's frame sources module (images,
 * synthetic), made on first use and kept. */
static inline KestrelPluginRegistry *
fuzz_sources_registry (void)
{
  static KestrelPluginRegistry *registry;

  if (registry == NULL)
    {
      g_autofree char *path = g_build_filename (FUZZ_PLUGIN_BUILDDIR, "sources", "sources.so", NULL);
      g_autoptr(GError) error = NULL;

      registry = kestrel_plugin_registry_new ();
      if (!kestrel_plugin_registry_load_file (registry, path, &error))
        {
          g_printerr ("%s\n", error->message);
          abort ();
        }
    }
  return registry;
}

/* Opens the source `spec` as `kestrel-cli run --source` does and takes up
 * to `n` frames, checking each error has a message and each frame is all
 * there. */
static inline void
fuzz_open_source (const char *spec, guint n)
{
  g_autoptr(GError) open_error = NULL;
  g_autoptr(KestrelFrameSource) source = kestrel_frame_source_open (fuzz_sources_registry (), spec,
                                                                    &open_error);

  fuzz_check_error (source != NULL, open_error);
  if (source == NULL)
    return;
  for (guint i = 0; i < n; i++)
    {
      KestrelFrame frame;
      g_autoptr(GError) error = NULL;
      KestrelFrameStatus status = kestrel_frame_source_next_frame (source, &frame, NULL, &error);

      fuzz_check_error (status != KESTREL_FRAME_ERROR, error);
      if (status != KESTREL_FRAME_OK)
        return;
      fuzz_touch_frame (&frame.image);
    }
}
