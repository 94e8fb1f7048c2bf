/* cli-ort-peer.h — ONNX Runtime as a peer engine, run in its own process
 * (tests/peers/ort-peer.js through Node) and asked for rounds of timed
 * inferences; used by `bench --peer ort` and `benchmark --peer ort`. */
#pragma once

#include <gio/gio.h>

#include "kestrel-op.h"

G_BEGIN_DECLS

typedef struct {
  GSubprocess *process;
  GDataInputStream *out;
  GOutputStream *in;
  char *version;
  char *tmp_dir;   /* the model and input files it reads */
} OrtPeer;

/* Writes `model` (the .onnx bytes) and `input` (float32, graph input
 * `input_name`) to a temporary folder and starts the peer on them with
 * `threads` threads; its reply gives its version. */
gboolean ort_peer_start (OrtPeer *peer, GBytes *model, const char *input_name, const KestrelTensorView *input,
                         guint threads, GError **error);
/* Asks for `runs` timed inferences and appends their times (ms). */
gboolean ort_peer_round (OrtPeer *peer, guint runs, GArray *times_ms, GError **error);
/* CPU time the peer process has used so far, all its threads (Node's own
 * included), in ns, from /proc/PID/task/N/schedstat; 0 where unreadable. */
guint64 ort_peer_cpu_ns (OrtPeer *peer);
/* Tells it to quit, waits for it, removes its files and frees what it
 * held. */
void ort_peer_clear (OrtPeer *peer);

G_END_DECLS
