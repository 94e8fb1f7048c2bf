/* kestrel-file.h — reading a whole file, bounded, and checking where one
 * will be written.
 *
 * Every file Kestrel reads whole (images, models, tensors, JSON such as
 * calibration tables and benchmark results, small text files) is read with
 * kestrel_file_read(). It refuses what is not a regular file (a folder, a
 * device such as /dev/zero, a FIFO, a socket: reading one would never end
 * or never start) and a file larger than the cap of its kind, each with a
 * message that says what the file should have been. Files are read, not
 * mapped: a mapped file truncated by someone else while Kestrel uses it
 * kills the process with SIGBUS, a read one is only short.
 *
 * Errors are KESTREL_ERROR_INVALID_ARGUMENT (missing, unreadable, not a
 * regular file, too large) or KESTREL_ERROR_CORRUPT (empty, or changed
 * size while read), and the message starts with the file's name.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  KESTREL_FILE_IMAGE,    /* a still image: PNG, JPEG, ... */
  KESTREL_FILE_MODEL,    /* an ONNX model */
  KESTREL_FILE_TENSOR,   /* an ONNX TensorProto */
  KESTREL_FILE_JSON,     /* calibration tables, benchmark results */
  KESTREL_FILE_TEXT,     /* small settings and state files */
  KESTREL_FILE_VIDEO,    /* streamed, never read whole: only checked */
  KESTREL_FILE_N_KINDS
} KestrelFileKind;

/* The most bytes a file of @kind may have. */
guint64      kestrel_file_kind_get_max_bytes (KestrelFileKind kind);
/* What a file of @kind is, for messages: "an image file", "an ONNX model". */
const char  *kestrel_file_kind_get_noun      (KestrelFileKind kind);

/* The contents of @path, a regular file of at most the cap of @kind (and,
 * except for KESTREL_FILE_TEXT, not empty). */
GBytes      *kestrel_file_read  (const char       *path,
                                 KestrelFileKind   kind,
                                 GError          **error) G_GNUC_WARN_UNUSED_RESULT;
/* The same checks without reading: for files that are streamed (video). */
gboolean     kestrel_file_check (const char       *path,
                                 KestrelFileKind   kind,
                                 GError          **error);

/* A file Kestrel is going to write at @path: not a folder, in a folder
 * that exists. */
gboolean     kestrel_file_check_writable (const char  *path,
                                          GError     **error);

G_END_DECLS
