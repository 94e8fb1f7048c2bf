/* cli-bench-cases.h — what `kestrel-cli bench-kernels` measures.
 *
 * A case is one kernel on one input shape: a setup function that allocates
 * and fills its buffers, a run function that calls the kernel from a table,
 * and optionally a run function for the OpenCV peer doing the same job.
 * cli-bench-kernels.c does the timing and the reporting.
 */
#pragma once

#include <glib.h>

#include "kestrel-kernels.h"
#include "opencv-peer.h"

G_BEGIN_DECLS

/* Buffers and shape of one case, after setup. */
typedef struct {
  char *label;             /* the case, e.g. "1920x1080 RGBA8" */
  gsize input_bytes;       /* bytes the kernel reads: basis of GB/s and of memcpy */
  gsize output_bytes;
  gsize pixels;            /* output pixels, 0 when not an image kernel */
  guint8 *in;              /* 64-byte aligned, deterministic pseudo-random data */
  guint8 *out;             /* 64-byte aligned */
  guint8 *copy;            /* memcpy's destination (input_bytes), memory-bound cases only */

  size_t src_w, src_h, src_stride;
  size_t dst_w, dst_h, dst_stride;
  size_t channels;
  size_t n;                /* elements of 1-D kernels */
  kk_pixel_format format;
  kk_model_input_params params;

  /* The memory floor of a sampling kernel (see BenchCase.run_floor): the
   * source rows it reads, in the order it reads them, and the byte offsets
   * of the 64-byte lines its columns touch inside a row. */
  guint32 *floor_rows;
  gsize n_floor_rows;
  guint32 *floor_lines;
  gsize n_floor_lines;
} BenchData;

typedef enum {
  BENCH_FILL_BYTES,
  BENCH_FILL_F32,
  BENCH_FILL_F16,
} BenchFill;

typedef enum {
  BENCH_OUT_U8,
  BENCH_OUT_F32,
} BenchOut;

typedef struct BenchCase BenchCase;

struct BenchCase {
  const char *name;          /* the kk_kernels entry it measures */
  size_t entry;              /* offsetof (kk_kernels, <name>) */
  gboolean memory_bound;     /* also compared with memcpy of the same bytes */

  void (*setup) (const BenchCase *c, BenchData *d, gboolean quick);
  void (*run) (const kk_kernels *k, BenchData *d);

  /* The OpenCV peer doing the same job, or NULL. Returns 0 on success. */
  int (*run_peer) (const KestrelOpencvPeer *peer, BenchData *d);
  const char *peer_pipeline; /* what the peer runs, for the report */
  BenchOut out_type;         /* to compare the peer's output with ours */

  /* The least any implementation must do, or NULL: for model input, read one
   * byte of every cache line the sampling needs and write the tensor's
   * bytes, in the kernel's order. Timed in the same round robin, it says how
   * far a kernel is from the memory system's limit, and peer time / floor
   * time is the largest speed-up over the peer any kernel could show. */
  void (*run_floor) (BenchData *d);

  /* Shape at full size; --quick shrinks it. */
  size_t src_w, src_h, dst_w, dst_h, channels, n;
  kk_pixel_format format;
  kk_layout layout;
  BenchFill fill;
  size_t in_elem, out_elem;  /* bytes per element of 1-D kernels */
};

typedef void (*BenchFn) (void);

const BenchCase *bench_cases (gsize *n_cases);

/* The case's entry in a table, NULL when the table does not have it yet. */
BenchFn bench_case_entry (const BenchCase *c, const kk_kernels *k);

void bench_data_clear (BenchData *d);

/* The memcpy baseline: input_bytes from d->in to d->copy. */
void bench_run_memcpy (BenchData *d);

/* Reads the output so no compiler can treat the work as dead. */
void bench_sink (const BenchData *d);

/* Largest |a - b| over the case's output, read as its output type. */
double bench_max_abs_diff (const BenchCase *c, const BenchData *d,
                           const guint8 *a, const guint8 *b);

G_END_DECLS
