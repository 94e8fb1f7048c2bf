/* private-cache.h — a user cache folder of a test program's own. Header
 * only; tests of any folder include it as "../private-cache.h".
 *
 * meson test already points XDG_CACHE_HOME into the build folder for every
 * test (tests/meson.build), so no test touches the user's cache; a test
 * that must see a calibration measured rather than read (or read a cache
 * it wrote itself) calls private_cache_begin() first thing in main(),
 * before anything asks GLib for the cache folder, and private_cache_end()
 * before it returns. (G_TEST_OPTION_ISOLATE_DIRS would also move the data
 * folders, where the image loaders find the MIME database.) */
#pragma once

#include <gio/gio.h>

static inline void
private_cache_remove (GFile *file)
{
  g_autoptr(GFileEnumerator) children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                                                    G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);

  for (GFileInfo *info; children != NULL && (info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL;)
    {
      g_autoptr(GFile) child = g_file_get_child (file, g_file_info_get_name (info));
      private_cache_remove (child);
      g_object_unref (info);
    }
  g_file_delete (file, NULL, NULL);
}

/* Returns the folder (free it with private_cache_end). */
static inline char *
private_cache_begin (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("kestrel-test-cache-XXXXXX", &error);

  g_assert_no_error (error);
  g_setenv ("XDG_CACHE_HOME", dir, TRUE);
  return dir;
}

static inline void
private_cache_end (char *dir)
{
  g_autoptr(GFile) file = g_file_new_for_path (dir);

  private_cache_remove (file);
  g_free (dir);
}
