/* test-file.c — kestrel_file_read() and kestrel_file_check_writable():
 * regular files only, a cap per kind, messages that name the file and say
 * what it should have been. Devices, FIFOs and oversized files are refused
 * before anything is read (a sparse file stands in for a large one). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kestrel-error.h"
#include "kestrel-file.h"

static char *tmp_dir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static void
assert_refused (const char *path, KestrelFileKind kind, int code, const char *const *parts)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = kestrel_file_read (path, kind, &error);

  g_assert_null (bytes);
  g_assert_error (error, KESTREL_ERROR, code);
  g_test_message ("%s", error->message);
  for (guint i = 0; parts[i] != NULL; i++)
    g_assert_nonnull (strstr (error->message, parts[i]));

  /* The check alone says the same. */
  g_clear_error (&error);
  g_assert_false (kestrel_file_check (path, kind, &error));
  g_assert_error (error, KESTREL_ERROR, code);
}

static void
test_read_regular (void)
{
  g_autofree char *path = tmp_path ("model.onnx");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const char text[] = "not really a model, but bytes";

  g_assert_true (g_file_set_contents (path, text, sizeof text, NULL));
  bytes = kestrel_file_read (path, KESTREL_FILE_MODEL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), text, sizeof text);
  g_assert_true (kestrel_file_check (path, KESTREL_FILE_MODEL, &error));
  g_unlink (path);
}

/* /dev/zero grew Kestrel by 1.3 GB/s (issue 10, defect 6). */
static void
test_refuses_devices (void)
{
  assert_refused ("/dev/zero", KESTREL_FILE_IMAGE, KESTREL_ERROR_INVALID_ARGUMENT,
                  (const char *const[]) { "/dev/zero is a device, not an image file", NULL });
  assert_refused ("/dev/null", KESTREL_FILE_MODEL, KESTREL_ERROR_INVALID_ARGUMENT,
                  (const char *const[]) { "/dev/null is a device, not an ONNX model", NULL });
  assert_refused ("/dev/urandom", KESTREL_FILE_TENSOR, KESTREL_ERROR_INVALID_ARGUMENT,
                  (const char *const[]) { "is a device", "TensorProto", NULL });
}

/* A folder given as a model said "mmap() failed: No such device". */
static void
test_refuses_folders (void)
{
  assert_refused (tmp_dir, KESTREL_FILE_MODEL, KESTREL_ERROR_INVALID_ARGUMENT,
                  (const char *const[]) { tmp_dir, "is a folder, not an ONNX model", NULL });
}

/* Opening a FIFO nobody writes to would wait forever. */
static void
test_refuses_fifos (void)
{
  g_autofree char *path = tmp_path ("fifo");

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  assert_refused (path, KESTREL_FILE_JSON, KESTREL_ERROR_INVALID_ARGUMENT,
                  (const char *const[]) { "is a pipe (FIFO), not a JSON file", NULL });
  g_unlink (path);
}

static void
test_missing (void)
{
  g_autofree char *path = tmp_path ("missing.png");

  assert_refused (path, KESTREL_FILE_IMAGE, KESTREL_ERROR_INVALID_ARGUMENT,
                  (const char *const[]) { "missing.png does not exist", NULL });
}

/* Empty is never a valid image, model, tensor or JSON file; a text file
 * may be. */
static void
test_empty (void)
{
  g_autofree char *path = tmp_path ("empty.onnx");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) text = NULL;

  g_assert_true (g_file_set_contents (path, "", 0, NULL));
  assert_refused (path, KESTREL_FILE_MODEL, KESTREL_ERROR_CORRUPT,
                  (const char *const[]) { "empty.onnx is empty (0 bytes), not an ONNX model", NULL });
  text = kestrel_file_read (path, KESTREL_FILE_TEXT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (text), ==, 0);
  g_unlink (path);
}

/* One byte over each cap, as a sparse file: refused from its size alone. */
static void
test_caps (void)
{
  for (KestrelFileKind kind = 0; kind < KESTREL_FILE_N_KINDS; kind++)
    {
      guint64 cap = kestrel_file_kind_get_max_bytes (kind);
      g_autofree char *path = tmp_path ("large");
      g_autofree char *over = g_strdup_printf ("(%" G_GUINT64_FORMAT " bytes)", cap + 1);
      int fd;

      if (kind == KESTREL_FILE_VIDEO)
        {
          g_assert_cmpuint (cap, ==, G_MAXUINT64);   /* streamed: no cap */
          continue;
        }
      g_assert_cmpuint (cap, >=, 1 << 20);
      fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
      g_assert_cmpint (fd, >=, 0);
      g_assert_cmpint (ftruncate (fd, (off_t) cap + 1), ==, 0);
      close (fd);
      assert_refused (path, kind, KESTREL_ERROR_INVALID_ARGUMENT,
                      (const char *const[]) { "large is ", over, "more than",
                                              kestrel_file_kind_get_noun (kind), NULL });

      /* At the cap itself it is read (the TEXT cap is small enough). */
      if (kind == KESTREL_FILE_TEXT)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) bytes = NULL;

          g_assert_cmpint (truncate (path, (off_t) cap), ==, 0);
          bytes = kestrel_file_read (path, kind, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (g_bytes_get_size (bytes), ==, cap);
        }
      g_unlink (path);
    }
}

static void
test_writable (void)
{
  g_autofree char *ok = tmp_path ("state.json");
  g_autofree char *file = tmp_path ("a-file");
  g_autofree char *under_file = g_build_filename (file, "state.json", NULL);
  g_autofree char *missing = g_build_filename (tmp_dir, "no-folder", "state.json", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (kestrel_file_check_writable (ok, &error));
  g_assert_no_error (error);

  g_assert_false (kestrel_file_check_writable (missing, &error));
  g_assert_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "no-folder does not exist"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (file, "", 0, NULL));
  g_assert_false (kestrel_file_check_writable (under_file, &error));
  g_assert_nonnull (strstr (error->message, "a-file is not a folder"));
  g_clear_error (&error);
  g_unlink (file);

  g_assert_false (kestrel_file_check_writable (tmp_dir, &error));
  g_assert_nonnull (strstr (error->message, "is a folder, not a file"));
  g_clear_error (&error);

  g_assert_false (kestrel_file_check_writable ("", &error));
  g_assert_nonnull (strstr (error->message, "empty"));
}

int
main (int argc, char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("kestrel-file-XXXXXX", NULL);
  g_assert_nonnull (tmp_dir);

  g_test_add_func ("/file/read-regular", test_read_regular);
  g_test_add_func ("/file/refuses-devices", test_refuses_devices);
  g_test_add_func ("/file/refuses-folders", test_refuses_folders);
  g_test_add_func ("/file/refuses-fifos", test_refuses_fifos);
  g_test_add_func ("/file/missing", test_missing);
  g_test_add_func ("/file/empty", test_empty);
  g_test_add_func ("/file/caps", test_caps);
  g_test_add_func ("/file/writable", test_writable);

  status = g_test_run ();
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  return status;
}
