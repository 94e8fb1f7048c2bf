/* source-images.c — the "images" frame source: still images decoded with
 * gdk-pixbuf (kestrel-image.h: EXIF orientation applied, RGB8 or RGBA8).
 *
 *   images:PATH[?loop=0][&hold=SECONDS[&repeat=0]]
 *
 * PATH is
 *   - a file: that one image, decoded once at open (so a bad file fails
 *     there) and lent again on every call;
 *   - a folder: its image files, in the order a file manager shows them
 *     (g_utf8_collate_key_for_filename: "img2" before "img10"); hidden
 *     files, subfolders and files whose extension no gdk-pixbuf loader
 *     claims are left out;
 *   - a glob, wildcards ('*', '?') in the last component only:
 *     "~/Pictures/IMG_*.jpg" is the image files of ~/Pictures whose names
 *     match, in the same order. A path that exists is never a glob.
 * A leading "~/" is the home folder.
 *
 * A file that cannot be read or decoded is an ERROR naming it; the next
 * call goes on with the next file. Such a file is named once: later passes
 * skip it for as long as its size and modification time stay the same (a
 * file being copied in, or repaired, is tried again once it changes). At
 * the end of the list the source starts again (unless loop=0), reading the
 * folder afresh so that images added while it runs are picked up; a pass in
 * which no file decoded ends the source rather than report the same errors
 * for ever.
 *
 * Frames have pts_us -1 (stills have no time; the engine paces) and are
 * named after their file.
 *
 * hold=SECONDS makes a slideshow for people watching a preview: each image
 * is lent again and again, without decoding it afresh, until it has been
 * shown that long (by the monotonic clock), then the next one comes. The
 * pipeline still runs at its own pace; only what it looks at changes
 * slowly. With repeat=0 each image is given once: until its hold is over
 * the source answers KESTREL_FRAME_AGAIN with the time to ask again (the
 * caller waits, not the source), so a pipeline runs each still once
 * instead of as often as it can. That is what a resource-aware viewer wants; repeat=1
 * (the default) is for measuring how fast the pipeline can go.
 */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-image.h"
#include "kestrel-plugin.h"
#include "sources-common.h"
#include "sources-vtables.h"

typedef struct {
  char *path;
  char *name;          /* display name of the basename */
} ImageFile;

typedef struct {
  char *folder;        /* folder or glob mode: the folder read */
  GPatternSpec *glob;  /* glob mode: what names must match */
  GArray *files;       /* ImageFile, in name order */
  guint next;
  gboolean loop;
  gboolean ended;
  /* Paths that failed to decode -> their FileStamp when they did. */
  GHashTable *failed;
  guint decoded_in_pass;
  /* Single-file mode: the frame, decoded at open and kept. */
  gboolean single;
  kk_image_view still;
  SourceFrameBuffer buffer;
  /* hold: the frame lent last, and since when. */
  gint64 hold_us;
  gboolean repeat;
  gboolean holding;
  kk_image_view held;
  const char *held_name;
  gint64 held_since_us;
} ImagesSource;

static const char *const images_options[] = { "loop", "hold", "repeat", NULL };

/* What a file looked like when it failed: it is tried again once it
 * changes. */
typedef struct {
  goffset size;
  gint64 mtime;
} FileStamp;

static gboolean
file_stamp_read (const char *path, FileStamp *stamp)
{
  GStatBuf buf;

  if (g_stat (path, &buf) != 0)
    return FALSE;
  stamp->size = buf.st_size;
  stamp->mtime = (gint64) buf.st_mtime;
  return TRUE;
}

static void
image_file_clear (gpointer data)
{
  ImageFile *file = data;
  g_free (file->path);
  g_free (file->name);
}

static void
images_source_free (ImagesSource *self)
{
  if (self == NULL)
    return;
  source_frame_buffer_release (&self->buffer);
  g_clear_pointer (&self->failed, g_hash_table_unref);
  g_clear_pointer (&self->files, g_array_unref);
  g_clear_pointer (&self->glob, g_pattern_spec_free);
  g_free (self->folder);
  g_free (self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImagesSource, images_source_free)

/* Lower-case extensions some gdk-pixbuf loader claims. */
static GHashTable *
image_extensions (void)
{
  static GHashTable *extensions;

  if (g_once_init_enter (&extensions))
    {
      GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      GSList *formats = gdk_pixbuf_get_formats ();

      for (GSList *l = formats; l != NULL; l = l->next)
        {
          GdkPixbufFormat *format = l->data;
          g_auto(GStrv) list = NULL;

          if (gdk_pixbuf_format_is_disabled (format))
            continue;
          list = gdk_pixbuf_format_get_extensions (format);
          for (guint i = 0; list != NULL && list[i] != NULL; i++)
            g_hash_table_add (set, g_ascii_strdown (list[i], -1));
        }
      g_slist_free (formats);
      g_once_init_leave (&extensions, set);
    }
  return extensions;
}

static gboolean
is_image_name (const char *name)
{
  const char *dot = strrchr (name, '.');

  if (dot == NULL || dot == name || dot[1] == '\0')
    return FALSE;
  g_autofree char *extension = g_ascii_strdown (dot + 1, -1);
  return g_hash_table_contains (image_extensions (), extension);
}

static gboolean
has_wildcards (const char *text)
{
  return strpbrk (text, "*?") != NULL;
}

typedef struct {
  char *key;
  ImageFile file;
} SortEntry;

static gint
compare_entries (gconstpointer a, gconstpointer b)
{
  return strcmp (((const SortEntry *) a)->key, ((const SortEntry *) b)->key);
}

/* The image files of `folder` (matching `glob` when set), in name order. */
static gboolean
glob_matches (GPatternSpec *glob, const char *name)
{
  g_autofree char *display = NULL;

  if (g_utf8_validate (name, -1, NULL))
    return g_pattern_spec_match_string (glob, name);
  display = g_filename_display_name (name);
  return g_pattern_spec_match_string (glob, display);
}

static GArray *
list_images (const char *folder, GPatternSpec *glob, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GDir) dir = g_dir_open (folder, 0, &local_error);
  g_autoptr(GArray) entries = g_array_new (FALSE, FALSE, sizeof (SortEntry));
  const char *name;

  if (dir == NULL)
    {
      /* GLib's message names the folder. */
      g_set_error_literal (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, local_error->message);
      return NULL;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (name[0] == '.' || !is_image_name (name))
        continue;
      /* GLib's globs match UTF-8 only (a name that is not aborts in
       * g_utf8_strreverse): a name in another encoding is matched as it is
       * shown, its stray bytes made U+FFFD. */
      if (glob != NULL && !glob_matches (glob, name))
        continue;

      g_autofree char *path = g_build_filename (folder, name, NULL);
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;

      g_autofree char *display = g_filename_display_name (name);
      SortEntry entry = {
        .key = g_utf8_collate_key_for_filename (display, -1),
        .file = { g_steal_pointer (&path), g_steal_pointer (&display) },
      };
      g_array_append_val (entries, entry);
    }
  g_array_sort (entries, compare_entries);

  GArray *files = g_array_sized_new (FALSE, FALSE, sizeof (ImageFile), entries->len);
  g_array_set_clear_func (files, image_file_clear);
  for (guint i = 0; i < entries->len; i++)
    {
      SortEntry *entry = &g_array_index (entries, SortEntry, i);
      g_free (entry->key);
      g_array_append_val (files, entry->file);
    }
  return files;
}

/* Decodes `path` into the frame buffer. */
static gboolean
images_decode (ImagesSource *self, const char *path, kk_image_view *view, GError **error)
{
  g_autoptr(KestrelImage) image = kestrel_image_new_from_file (path, error);

  if (image == NULL)
    return FALSE;
  const kk_image_view *v = kestrel_image_get_view (image);
  return source_frame_buffer_copy (&self->buffer, v->data, v->width, v->height, v->stride, v->format,
                                   view, error);
}

static gboolean
source_images_accepts (const char *spec)
{
  g_autofree char *location = source_spec_dup_location (spec);
  g_autofree char *path = source_expand_home (location);
  g_autofree char *base = NULL;
  g_autofree char *folder = NULL;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    return TRUE;
  base = g_path_get_basename (path);
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return is_image_name (base);
  folder = g_path_get_dirname (path);
  return has_wildcards (base) && !has_wildcards (folder) && g_file_test (folder, G_FILE_TEST_IS_DIR);
}

static gpointer
source_images_open (const char *text, GError **error)
{
  g_autoptr(SourceSpec) spec = source_spec_parse ("images", text, images_options, error);
  g_autoptr(ImagesSource) self = NULL;
  g_autofree char *path = NULL;
  g_autofree char *display = NULL;

  if (spec == NULL)
    return NULL;
  self = g_new0 (ImagesSource, 1);
  if (!source_spec_get_boolean (spec, "loop", TRUE, &self->loop, error))
    return NULL;
  double hold_seconds;
  if (!source_spec_get_seconds (spec, "hold", 0, &hold_seconds, error))
    return NULL;
  self->hold_us = (gint64) (hold_seconds * G_USEC_PER_SEC);
  if (!source_spec_get_boolean (spec, "repeat", TRUE, &self->repeat, error))
    return NULL;
  self->failed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  path = source_expand_home (spec->location);
  display = g_filename_display_name (path);
  if (*path == '\0')
    {
      g_set_error_literal (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                           "no file, folder or glob given (images:PATH)");
      return NULL;
    }

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      self->folder = g_strdup (path);
      self->files = list_images (self->folder, NULL, error);
      if (self->files == NULL)
        return NULL;
      if (self->files->len == 0)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "folder %s has no image files", display);
          return NULL;
        }
      return g_steal_pointer (&self);
    }

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      /* One file: decoded now, so a bad one fails here rather than as an
       * endless run of errors. */
      self->single = TRUE;
      if (!images_decode (self, path, &self->still, error))
        return NULL;
      self->files = g_array_new (FALSE, FALSE, sizeof (ImageFile));
      g_array_set_clear_func (self->files, image_file_clear);
      ImageFile file = { g_strdup (path), g_filename_display_basename (path) };
      g_array_append_val (self->files, file);
      return g_steal_pointer (&self);
    }

  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *folder = g_path_get_dirname (path);
  if (!has_wildcards (base))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, "no such file or folder: %s",
                   display);
      return NULL;
    }
  if (has_wildcards (folder))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "%s: only the last part of a path may have wildcards", display);
      return NULL;
    }
  if (!g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *folder_display = g_filename_display_name (folder);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, "no such folder: %s",
                   folder_display);
      return NULL;
    }

  /* A pattern must be UTF-8 for GLib to compile it (found by fuzzing:
   * g_pattern_spec_new aborts otherwise). */
  if (!g_utf8_validate (base, -1, NULL))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "%s: a file name pattern must be valid UTF-8", display);
      return NULL;
    }
  self->folder = g_steal_pointer (&folder);
  self->glob = g_pattern_spec_new (base);
  self->files = list_images (self->folder, self->glob, error);
  if (self->files == NULL)
    return NULL;
  if (self->files->len == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, "no image files match %s",
                   display);
      return NULL;
    }
  return g_steal_pointer (&self);
}

/* At the end of a pass: whether to go round again, with the folder read
 * afresh. */
static KestrelFrameStatus
images_rewind (ImagesSource *self, GError **error)
{
  if (!self->loop || self->decoded_in_pass == 0)
    {
      self->ended = TRUE;
      return KESTREL_FRAME_END;
    }
  self->next = 0;
  self->decoded_in_pass = 0;
  if (self->single)
    return KESTREL_FRAME_OK;

  g_autoptr(GError) local_error = NULL;
  g_autoptr(GArray) files = list_images (self->folder, self->glob, &local_error);
  if (files == NULL || files->len == 0)
    {
      g_autofree char *display = g_filename_display_name (self->folder);
      self->ended = TRUE;
      if (files == NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                     "folder %s no longer has image files%s", display,
                     self->glob != NULL ? " that match" : "");
      return KESTREL_FRAME_ERROR;
    }
  g_array_unref (self->files);
  self->files = g_steal_pointer (&files);
  return KESTREL_FRAME_OK;
}

/* Whether `file` failed before and has not changed since. */
static gboolean
images_known_bad (ImagesSource *self, const ImageFile *file)
{
  const FileStamp *then = g_hash_table_lookup (self->failed, file->path);
  FileStamp now;

  if (then == NULL)
    return FALSE;
  if (file_stamp_read (file->path, &now) && now.size == then->size && now.mtime == then->mtime)
    return TRUE;
  g_hash_table_remove (self->failed, file->path);
  return FALSE;
}

static void
images_remember_bad (ImagesSource *self, const ImageFile *file)
{
  FileStamp *stamp = g_new0 (FileStamp, 1);

  if (!file_stamp_read (file->path, stamp))
    stamp->size = -1;  /* gone: if it comes back, it is tried again */
  g_hash_table_replace (self->failed, g_strdup (file->path), stamp);
}

static KestrelFrameStatus
source_images_next_frame (gpointer source, KestrelFrame *frame, GCancellable *cancellable,
                          GError **error)
{
  ImagesSource *self = source;
  const ImageFile *file;

  if (self->ended)
    return KESTREL_FRAME_END;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return KESTREL_FRAME_ERROR;

  if (self->holding)
    {
      gint64 until = self->held_since_us + self->hold_us;

      if (self->repeat && g_get_monotonic_time () < until)
        {
          frame->image = self->held;
          frame->pts_us = -1;
          frame->name = self->held_name;
          return KESTREL_FRAME_OK;
        }
      /* repeat=0: this still has been given; nothing new until its time
       * is up. */
      if (!self->repeat && g_get_monotonic_time () < until)
        {
          frame->pts_us = until;
          return KESTREL_FRAME_AGAIN;
        }
    }
  self->holding = FALSE;

  /* Files that failed before are skipped; a pass of nothing but those
   * ends in images_rewind(). */
  do
    {
      if (self->next >= self->files->len)
        {
          KestrelFrameStatus status = images_rewind (self, error);
          if (status != KESTREL_FRAME_OK)
            return status;
        }
      file = &g_array_index (self->files, ImageFile, self->next);
      self->next++;
    }
  while (!self->single && images_known_bad (self, file));

  if (self->single)
    frame->image = self->still;
  else
    {
      /* The previous frame's time is up: its buffer can go back now,
       * whether or not this file decodes. */
      source_frame_buffer_release (&self->buffer);
      if (!images_decode (self, file->path, &frame->image, error))
        {
          images_remember_bad (self, file);
          return KESTREL_FRAME_ERROR;
        }
    }
  self->decoded_in_pass++;
  frame->pts_us = -1;
  frame->name = file->name;
  if (self->hold_us > 0)
    {
      /* file->name stays valid: the list is only replaced at a rewind,
       * and a rewind only happens once the hold is over. */
      self->holding = TRUE;
      self->held = frame->image;
      self->held_name = file->name;
      self->held_since_us = g_get_monotonic_time ();
    }
  return KESTREL_FRAME_OK;
}

static void
source_images_close (gpointer source)
{
  images_source_free (source);
}

const KestrelFrameSourceVTable source_images_vtable = {
  .name = "images",
  .description = "Still images: a file, a folder or a glob (images:PATH[?loop=0][&hold=SECONDS[&repeat=0]])",
  .accepts = source_images_accepts,
  .open = source_images_open,
  .next_frame = source_images_next_frame,
  .close = source_images_close,
};
