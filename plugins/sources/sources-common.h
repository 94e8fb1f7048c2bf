/* sources-common.h — what the frame source plugins share: the spec and
 * option syntax, the frame pool, and the buffer a frame is lent in.
 *
 * Spec syntax, for every source:
 *
 *   name:LOCATION?key=value&key=value
 *
 * "name:" is stripped by the caller (kestrel_frame_source_open); a source
 * sees "LOCATION?options". The options are the text after the last '?'
 * when that text is a non-empty list of key=value items (keys made of
 * letters, digits, '-' and '_'); otherwise there are none and the '?' is
 * part of the location, so a glob such as "IMG_????.jpg" keeps working.
 * Values are taken as written (no escapes); they cannot hold '&'.
 *
 * Value types: booleans are 1/0, true/false, yes/no, on/off; counts are
 * decimal; durations are seconds (a decimal number, "2.5"). An unknown key,
 * a key given twice or a bad value fails open() with a message naming the
 * option and listing the ones the source knows.
 *
 * Options every finite source understands:
 *   loop=1     start again at the end (the default); loop=0 plays once.
 * Sources that give pixels from a converter also take
 *   format=rgb|rgba|bgra|bgrx|gray   the pixel layout of frames (rgb).
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-kernels.h"
#include "kestrel-pool.h"

G_BEGIN_DECLS

/* The tag on every frame buffer the sources take from their pool. */
#define SOURCES_FRAME_TAG "frame"

typedef struct {
  char *location;        /* as written; see source_expand_home() */
  GHashTable *options;   /* key -> value */
  const char *source;    /* the source name, for messages */
} SourceSpec;

/* Splits `spec` into location and options, and checks every key is in
 * `known` (NULL-terminated). */
SourceSpec *source_spec_parse (const char *source, const char *spec, const char *const *known,
                               GError **error);
void source_spec_free (SourceSpec *spec);
/* Just the location of `spec` (for accepts(): options are not checked). */
char *source_spec_dup_location (const char *spec);

/* `location` with a leading "~/" (or a lone "~") made the home folder. */
char *source_expand_home (const char *location);

gboolean source_spec_get_boolean (const SourceSpec *spec, const char *key, gboolean default_value,
                                  gboolean *out, GError **error);
gboolean source_spec_get_uint (const SourceSpec *spec, const char *key, guint min, guint max,
                               guint default_value, guint *out, GError **error);
/* Seconds in [0, 1e6]; default_value may be -1 for "not given". */
gboolean source_spec_get_seconds (const SourceSpec *spec, const char *key, double default_value,
                                  double *out, GError **error);
const char *source_spec_get_string (const SourceSpec *spec, const char *key, const char *default_value);
/* format=: rgb, rgba, bgra, bgrx, gray. */
gboolean source_spec_get_format (const SourceSpec *spec, kk_pixel_format default_value,
                                 kk_pixel_format *out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SourceSpec, source_spec_free)

/* The pool every source of this module takes frame buffers from. Created
 * on first use, never freed (a loaded module stays loaded). */
KestrelPool *sources_frame_pool (void);

/* The buffer behind the frame a source currently lends. Taking a new one
 * gives the previous one back first, so a source that keeps its frame
 * size reuses the same pooled block and allocates nothing. */
typedef struct {
  guint8 *data;
  gsize size;
} SourceFrameBuffer;

guint8 *source_frame_buffer_take (SourceFrameBuffer *buffer, gsize size, GError **error);
void source_frame_buffer_release (SourceFrameBuffer *buffer);

/* Copies rows into the frame buffer (tightly packed) and fills `view`. */
gboolean source_frame_buffer_copy (SourceFrameBuffer *buffer, const guint8 *data, gsize width,
                                   gsize height, gsize stride, kk_pixel_format format,
                                   kk_image_view *view, GError **error);

G_END_DECLS
