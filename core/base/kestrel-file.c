/* kestrel-file.c — see kestrel-file.h. */
#include "config.h"

#include "kestrel-file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kestrel-error.h"

#define MIB ((guint64) 1 << 20)
#define GIB ((guint64) 1 << 30)

/* The caps are far above any real file of the kind (the largest model in
 * ../shared/models is tens of MB, a 50-megapixel JPEG about 30 MB) and far
 * below what would hurt a laptop. */
static const struct {
  guint64     max_bytes;
  const char *noun;
  gboolean    may_be_empty;
} kinds[KESTREL_FILE_N_KINDS] = {
  [KESTREL_FILE_IMAGE]  = { 256 * MIB, "an image file", FALSE },
  [KESTREL_FILE_MODEL]  = { 1 * GIB, "an ONNX model", FALSE },
  [KESTREL_FILE_TENSOR] = { 1 * GIB, "an ONNX tensor (TensorProto) file", FALSE },
  [KESTREL_FILE_JSON]   = { 64 * MIB, "a JSON file", FALSE },
  [KESTREL_FILE_TEXT]   = { 1 * MIB, "a text file", TRUE },
  /* Streamed a buffer at a time: its size costs no memory. */
  [KESTREL_FILE_VIDEO]  = { G_MAXUINT64, "a video file", FALSE },
};

guint64
kestrel_file_kind_get_max_bytes (KestrelFileKind kind)
{
  g_return_val_if_fail (kind < KESTREL_FILE_N_KINDS, 0);

  return kinds[kind].max_bytes;
}

const char *
kestrel_file_kind_get_noun (KestrelFileKind kind)
{
  g_return_val_if_fail (kind < KESTREL_FILE_N_KINDS, NULL);

  return kinds[kind].noun;
}

static const char *
describe_type (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a folder";
  if (S_ISCHR (mode) || S_ISBLK (mode))
    return "a device";
  if (S_ISFIFO (mode))
    return "a pipe (FIFO)";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

/* Opens @path for reading and checks what it is; returns the descriptor,
 * or -1 with @error set. */
static int
open_checked (const char       *path,
              KestrelFileKind   kind,
              struct stat      *st,
              GError          **error)
{
  g_autofree char *name = g_filename_display_name (path);
  int fd;

  /* O_NONBLOCK: opening a FIFO with no writer would wait forever. Reads of
   * a regular file ignore it. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0)
    {
      int saved = errno;

      if (saved == ENOENT)
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                     "%s does not exist", name);
      else
        g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                     "%s cannot be opened: %s", name, g_strerror (saved));
      return -1;
    }
  if (fstat (fd, st) != 0)
    {
      int saved = errno;

      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "%s cannot be read: %s", name, g_strerror (saved));
      close (fd);
      return -1;
    }
  if (!S_ISREG (st->st_mode))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "%s is %s, not %s", name, describe_type (st->st_mode), kinds[kind].noun);
      close (fd);
      return -1;
    }
  if ((guint64) st->st_size > kinds[kind].max_bytes)
    {
      g_autofree char *size = g_format_size_full ((guint64) st->st_size, G_FORMAT_SIZE_LONG_FORMAT);
      g_autofree char *limit = g_format_size_full (kinds[kind].max_bytes, G_FORMAT_SIZE_IEC_UNITS);

      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "%s is %s, more than the %s Kestrel reads as %s", name, size, limit,
                   kinds[kind].noun);
      close (fd);
      return -1;
    }
  if (st->st_size == 0 && !kinds[kind].may_be_empty)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s is empty (0 bytes), not %s", name, kinds[kind].noun);
      close (fd);
      return -1;
    }
  return fd;
}

gboolean
kestrel_file_check (const char       *path,
                    KestrelFileKind   kind,
                    GError          **error)
{
  struct stat st;
  int fd;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (kind < KESTREL_FILE_N_KINDS, FALSE);

  fd = open_checked (path, kind, &st, error);
  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

GBytes *
kestrel_file_read (const char       *path,
                   KestrelFileKind   kind,
                   GError          **error)
{
  struct stat st;
  gsize size, done = 0;
  guint8 *data;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (kind < KESTREL_FILE_N_KINDS && kind != KESTREL_FILE_VIDEO, NULL);

  fd = open_checked (path, kind, &st, error);
  if (fd < 0)
    return NULL;

  /* One byte more than the size: a file that grew since fstat() shows up
   * as a read that does not end there. */
  size = (gsize) st.st_size;
  data = g_try_malloc (size + 1);
  if (data == NULL)
    {
      g_autofree char *name = g_filename_display_name (path);
      g_autofree char *text = g_format_size (size);

      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_NO_MEMORY,
                   "%s: not enough memory to read its %s", name, text);
      close (fd);
      return NULL;
    }
  while (done < size + 1)
    {
      gssize n = read (fd, data + done, size + 1 - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_autofree char *name = g_filename_display_name (path);

          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "%s cannot be read: %s", name, g_strerror (saved));
          g_free (data);
          close (fd);
          return NULL;
        }
      if (n == 0)
        break;
      done += (gsize) n;
    }
  close (fd);

  if (done != size)
    {
      g_autofree char *name = g_filename_display_name (path);

      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s changed size while it was read (it is being written?)", name);
      g_free (data);
      return NULL;
    }
  return g_bytes_new_take (data, size);
}

gboolean
kestrel_file_check_writable (const char  *path,
                             GError     **error)
{
  g_autofree char *name = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *dir_name = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  if (*path == '\0')
    {
      g_set_error_literal (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                           "the file name is empty");
      return FALSE;
    }
  name = g_filename_display_name (path);
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "%s is a folder, not a file", name);
      return FALSE;
    }
  dir = g_path_get_dirname (path);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      dir_name = g_filename_display_name (dir);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   g_file_test (dir, G_FILE_TEST_EXISTS)
                     ? "cannot write %s: %s is not a folder"
                     : "cannot write %s: the folder %s does not exist",
                   name, dir_name);
      return FALSE;
    }
  return TRUE;
}
