/* cli-ort-peer.c — see cli-ort-peer.h. */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "cli-ort-peer.h"

void
ort_peer_clear (OrtPeer *peer)
{
  /* Say quit and close its stdin, so Node's event loop has nothing left. */
  if (peer->in != NULL)
    {
      g_output_stream_write_all (peer->in, "quit\n", 5, NULL, NULL, NULL);
      g_output_stream_close (peer->in, NULL, NULL);
    }
  g_clear_object (&peer->out);
  if (peer->process != NULL)
    g_subprocess_wait (peer->process, NULL, NULL);
  g_clear_object (&peer->process);
  g_clear_pointer (&peer->version, g_free);
  if (peer->tmp_dir != NULL)
    {
      g_autofree char *model_path = g_build_filename (peer->tmp_dir, "model.onnx", NULL);
      g_autofree char *input_path = g_build_filename (peer->tmp_dir, "input.f32", NULL);
      g_unlink (model_path);
      g_unlink (input_path);
      g_rmdir (peer->tmp_dir);
      g_clear_pointer (&peer->tmp_dir, g_free);
    }
}

/* One line of JSON from the peer, parsed. */
static JsonNode *
ort_peer_read (OrtPeer *peer, GError **error)
{
  g_autofree char *line = g_data_input_stream_read_line_utf8 (peer->out, NULL, NULL, error);
  g_autoptr(JsonParser) parser = json_parser_new ();

  if (line == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "ONNX Runtime peer exited (see its message above)");
      return NULL;
    }
  if (!json_parser_load_from_data (parser, line, -1, error))
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}

static char *
default_peer_script (void)
{
  const char *env = g_getenv ("KESTREL_ORT_PEER");

  if (env != NULL)
    return g_strdup (env);
  return g_build_filename (KESTREL_SOURCE_DIR, "tests", "peers", "ort-peer.js", NULL);
}

static gboolean
start_process (OrtPeer *peer, const char *model_path, guint threads, const char *input_spec,
               GError **error)
{
  g_autofree char *script = default_peer_script ();
  g_autofree char *threads_text = g_strdup_printf ("%u", threads);
  g_autoptr(JsonNode) ready = NULL;

  if (!g_file_test (script, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "ONNX Runtime peer script %s not found (set KESTREL_ORT_PEER)", script);
      return FALSE;
    }
  peer->process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                    error, "node", script, "serve", "--model", model_path,
                                    "--threads", threads_text, "--input", input_spec, NULL);
  if (peer->process == NULL)
    {
      g_prefix_error (error, "could not start node for the ONNX Runtime peer: ");
      return FALSE;
    }
  peer->in = g_subprocess_get_stdin_pipe (peer->process);
  peer->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (peer->process));
  ready = ort_peer_read (peer, error);
  if (ready == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (ready)
      || !json_object_get_boolean_member_with_default (json_node_get_object (ready), "ready", FALSE))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "ONNX Runtime peer did not start");
      return FALSE;
    }
  peer->version = g_strdup (json_object_get_string_member_with_default (json_node_get_object (ready),
                                                                         "version", "?"));
  return TRUE;
}

gboolean
ort_peer_round (OrtPeer *peer, guint runs, GArray *times_ms, GError **error)
{
  g_autofree char *command = g_strdup_printf ("run %u\n", runs);
  g_autoptr(JsonNode) reply = NULL;
  JsonArray *times;

  if (!g_output_stream_write_all (peer->in, command, strlen (command), NULL, NULL, error))
    return FALSE;
  reply = ort_peer_read (peer, error);
  if (reply == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (reply)
      || !json_object_has_member (json_node_get_object (reply), "times_ms"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "unexpected reply from the ONNX Runtime peer");
      return FALSE;
    }
  times = json_object_get_array_member (json_node_get_object (reply), "times_ms");
  for (guint i = 0; i < json_array_get_length (times); i++)
    {
      double t = json_array_get_double_element (times, i);
      g_array_append_val (times_ms, t);
    }
  return TRUE;
}

guint64
ort_peer_cpu_ns (OrtPeer *peer)
{
  const char *pid = peer->process != NULL ? g_subprocess_get_identifier (peer->process) : NULL;
  g_autofree char *tasks = pid != NULL ? g_build_filename ("/proc", pid, "task", NULL) : NULL;
  g_autoptr(GDir) dir = tasks != NULL ? g_dir_open (tasks, 0, NULL) : NULL;
  guint64 total = 0;
  const char *task;

  /* Every thread's: ONNX Runtime's pool at 2 threads and more. */
  while (dir != NULL && (task = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tasks, task, "schedstat", NULL);
      g_autofree char *text = NULL;
      if (g_file_get_contents (path, &text, NULL, NULL))
        total += g_ascii_strtoull (text, NULL, 10);
    }
  return total;
}

gboolean
ort_peer_start (OrtPeer *peer, GBytes *model, const char *input_name, const KestrelTensorView *input,
                guint threads, GError **error)
{
  g_autofree char *model_path = NULL;
  g_autofree char *input_path = NULL;
  g_autoptr(GString) spec = g_string_new (input_name);
  gsize size;
  gconstpointer data = g_bytes_get_data (model, &size);

  peer->tmp_dir = g_dir_make_tmp ("kestrel-ort-peer-XXXXXX", error);
  if (peer->tmp_dir == NULL)
    return FALSE;
  model_path = g_build_filename (peer->tmp_dir, "model.onnx", NULL);
  input_path = g_build_filename (peer->tmp_dir, "input.f32", NULL);
  if (!g_file_set_contents (model_path, data, size, error)
      || !g_file_set_contents (input_path, input->data, input->n_elements * sizeof (float), error))
    return FALSE;
  g_string_append_printf (spec, "=%s:", input_path);
  for (guint d = 0; d < input->n_dims; d++)
    g_string_append_printf (spec, "%s%" G_GINT64_FORMAT, d ? "x" : "", input->shape[d]);
  return start_process (peer, model_path, threads, spec->str, error);
}
