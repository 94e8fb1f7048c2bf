/* kestrel-cli bench-kernels — the image and conversion kernels on every
 * instruction set this CPU runs, side by side in one run, single threaded.
 *
 * For each case (cli-bench-cases.c) the variants are: the kernel from each
 * ISA's table, memcpy of the same input bytes for memory-bound kernels, the
 * memory floor where a case defines one (the cache lines the job must read
 * and the bytes it must write, nothing else), and the OpenCV peer where it
 * does the same job. Repetitions go round robin over
 * the variants (and rotate which goes first), so noise from a shared machine
 * lands on all of them alike; we report medians. An entry a table does not
 * have yet (NULL) is skipped with a note.
 *
 * The OpenCV peer is a module loaded after kestrel_blas_init(): OpenCV links
 * OpenBLAS, which must see Kestrel's OPENBLAS_CORETYPE before it loads.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <gmodule.h>

#include "cli-bench-cases.h"
#include "kestrel-blas.h"
#include "kestrel-cli.h"
#include "kestrel-kernels.h"
#include "kestrel-stats.h"
#include "opencv-peer.h"

#define DEFAULT_RUNS 31
#define DEFAULT_WARMUP 3
#define QUICK_RUNS 5
#define QUICK_WARMUP 1
#define MAX_VARIANTS (KK_ISA_COUNT + 3)

#define MEMCPY_MEANING \
  "memcpy of the kernel's input_bytes from its input buffer to a separate buffer of the " \
  "same size, timed in the same round robin; ratio_to_memcpy = memcpy median_ns / kernel " \
  "median_ns, i.e. the kernel's input bandwidth over memcpy's, both counted over input_bytes " \
  "(memcpy also writes input_bytes; the kernel writes output_bytes)"

#define FLOOR_MEANING \
  "the least any implementation must do, timed in the same round robin: for model input, " \
  "read one byte of every 64-byte line of the source rows bilinear sampling reads (two " \
  "per tensor row, only the lines its columns touch) and write the tensor's bytes, row by " \
  "row as the kernels do; ratio_to_floor = floor median_ns / kernel median_ns (1: the " \
  "kernel costs no more than its memory traffic); peer.floor_speedup = peer median_ns / " \
  "floor median_ns, the largest kestrel_speedup any kernel could reach in this run"

typedef struct {
  gboolean json;
  int runs;
  int warmup;
  gboolean quick;
  char **kernels;  /* glob patterns, NULL for all */
} Options;

typedef struct {
  const KestrelOpencvPeer *api;  /* NULL when not available */
  char *path;
  char *reason;                  /* why not available */
} Peer;

typedef enum {
  VARIANT_KERNEL,
  VARIANT_MEMCPY,
  VARIANT_FLOOR,
  VARIANT_PEER,
} VariantKind;

typedef struct {
  VariantKind kind;
  const char *label;          /* ISA name, "memcpy" or the peer's name */
  const kk_kernels *table;    /* VARIANT_KERNEL */
  const char *same_code_as;   /* a lower ISA whose entry is the very same function */
  double *samples;
  gsize n_samples;
  KestrelStatsSummary stats;
  char *error;                /* a peer that failed: not timed further */
} Variant;

typedef struct {
  const char *isa;
  const char *reason;
} Skip;

typedef struct {
  const BenchCase *bcase;
  BenchData data;
  Variant variants[MAX_VARIANTS];
  gsize n_variants;
  Skip skipped[KK_ISA_COUNT];
  gsize n_skipped;
  double peer_max_abs_diff;   /* vs scalar; NAN when not compared */
} CaseResult;

/* ---- Peer ---------------------------------------------------------------------- */

static void
peer_load (Peer *peer)
{
  const char *dirs[] = {
    g_getenv ("KESTREL_PEER_DIR"),
#ifdef KESTREL_PEER_BUILD_DIR
    KESTREL_PEER_BUILD_DIR,
#endif
#ifdef KESTREL_PEER_INSTALL_DIR
    KESTREL_PEER_INSTALL_DIR,
#endif
  };
  g_autoptr(GString) tried = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *path = NULL;
      GModule *module;
      KestrelOpencvPeerGetFunc get = NULL;
      const KestrelOpencvPeer *api;

      if (dirs[i] == NULL || *dirs[i] == '\0')
        continue;
      path = g_build_filename (dirs[i], KESTREL_OPENCV_PEER_MODULE "." G_MODULE_SUFFIX, NULL);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_string_append_printf (tried, "%s%s: not found", tried->len ? "; " : "", path);
          continue;
        }
      /* Local: OpenCV's symbols stay out of our namespace. Never closed:
       * unloading C++ libraries mid-process is asking for trouble. */
      module = g_module_open (path, G_MODULE_BIND_LOCAL);
      if (module == NULL)
        {
          g_string_append_printf (tried, "%s%s: %s", tried->len ? "; " : "", path, g_module_error ());
          continue;
        }
      if (!g_module_symbol (module, KESTREL_OPENCV_PEER_ENTRY, (gpointer *) &get) || get == NULL)
        {
          g_string_append_printf (tried, "%s%s: no symbol " KESTREL_OPENCV_PEER_ENTRY,
                                  tried->len ? "; " : "", path);
          g_module_close (module);
          continue;
        }
      api = get ();
      if (api == NULL || api->abi_version != KESTREL_OPENCV_PEER_ABI_VERSION)
        {
          g_string_append_printf (tried, "%s%s: ABI version %d, expected %d", tried->len ? "; " : "",
                                  path, api ? api->abi_version : -1, KESTREL_OPENCV_PEER_ABI_VERSION);
          continue;
        }
      g_module_make_resident (module);
      peer->api = api;
      peer->path = g_steal_pointer (&path);
      return;
    }

#ifdef HAVE_OPENCV
  peer->reason = g_strdup_printf ("peer module not loaded (%s)", tried->len ? tried->str : "no directory to look in");
#else
  peer->reason = g_strdup_printf ("this build has no OpenCV (meson option 'opencv', or no opencv4 / C++ compiler "
                                  "found) and no peer module was found elsewhere (%s)",
                                  tried->len ? tried->str : "no directory to look in; set KESTREL_PEER_DIR");
#endif
}

/* ---- Measuring ------------------------------------------------------------------- */

static void
variant_run (Variant *v, const BenchCase *c, BenchData *d, const Peer *peer)
{
  switch (v->kind)
    {
    case VARIANT_KERNEL:
      c->run (v->table, d);
      break;
    case VARIANT_MEMCPY:
      bench_run_memcpy (d);
      break;
    case VARIANT_FLOOR:
      c->run_floor (d);
      break;
    case VARIANT_PEER:
      if (c->run_peer (peer->api, d) != 0)
        v->error = g_strdup (peer->api->last_error ());
      break;
    }
}

static Variant *
add_variant (CaseResult *r, VariantKind kind, const char *label)
{
  Variant *v;

  g_assert (r->n_variants < MAX_VARIANTS);
  v = &r->variants[r->n_variants++];
  v->kind = kind;
  v->label = label;
  return v;
}

/* The variants of a case: each ISA's kernel the table has, then memcpy and
 * the peer where they apply. */
static void
plan_variants (CaseResult *r, const Peer *peer)
{
  const BenchCase *c = r->bcase;

  for (int i = 0; i < KK_ISA_COUNT; i++)
    {
      const kk_kernels *t = kk_kernels_get ((kk_isa) i);
      BenchFn fn;
      Variant *v;

      if (t == NULL)
        continue;  /* this CPU cannot run it */
      fn = bench_case_entry (c, t);
      if (fn == NULL)
        {
          r->skipped[r->n_skipped++] = (Skip) { kk_isa_name (i), "no kernel in this ISA's table yet (NULL entry)" };
          continue;
        }
      v = add_variant (r, VARIANT_KERNEL, kk_isa_name (i));
      v->table = t;
      /* Tables fall back to a lower ISA's function when a family has no
       * version of its own: say so rather than let it pass as its own. */
      for (gsize j = 0; j + 1 < r->n_variants; j++)
        if (bench_case_entry (c, r->variants[j].table) == fn)
          {
            v->same_code_as = r->variants[j].label;
            break;
          }
    }
  if (c->memory_bound)
    add_variant (r, VARIANT_MEMCPY, "memcpy");
  if (c->run_floor != NULL)
    add_variant (r, VARIANT_FLOOR, "floor");
  if (c->run_peer != NULL && peer->api != NULL)
    add_variant (r, VARIANT_PEER, peer->api->name);
}

static void
measure (CaseResult *r, const Options *opt, const Peer *peer)
{
  const BenchCase *c = r->bcase;
  BenchData *d = &r->data;
  const int reps = opt->warmup + opt->runs;

  for (gsize j = 0; j < r->n_variants; j++)
    r->variants[j].samples = g_new0 (double, opt->runs);

  for (int rep = 0; rep < reps; rep++)
    for (gsize j = 0; j < r->n_variants; j++)
      {
        /* Rotate who goes first: the first after a switch may pay for cold caches. */
        Variant *v = &r->variants[(j + (gsize) rep) % r->n_variants];
        guint64 t0, t1;

        if (v->error != NULL)
          continue;
        t0 = kestrel_stats_now_ns ();
        variant_run (v, c, d, peer);
        t1 = kestrel_stats_now_ns ();
        bench_sink (d);
        if (rep >= opt->warmup && v->error == NULL)
          v->samples[v->n_samples++] = (double) (t1 - t0);
      }

  for (gsize j = 0; j < r->n_variants; j++)
    kestrel_stats_summarize (r->variants[j].samples, r->variants[j].n_samples, &r->variants[j].stats);
}

/* Does the peer compute what we compute? Largest difference from the scalar
 * reference over the whole output. */
static void
compare_peer (CaseResult *r, const Peer *peer)
{
  const BenchCase *c = r->bcase;
  const kk_kernels *scalar = kk_kernels_get (KK_ISA_SCALAR);
  g_autofree guint8 *ours = NULL;

  r->peer_max_abs_diff = NAN;
  if (c->run_peer == NULL || peer->api == NULL || scalar == NULL || bench_case_entry (c, scalar) == NULL)
    return;
  c->run (scalar, &r->data);
  ours = g_memdup2 (r->data.out, r->data.output_bytes);
  if (c->run_peer (peer->api, &r->data) == 0)
    r->peer_max_abs_diff = bench_max_abs_diff (c, &r->data, ours, r->data.out);
}

static const Variant *
find_variant (const CaseResult *r, VariantKind kind, const char *label)
{
  for (gsize j = 0; j < r->n_variants; j++)
    {
      const Variant *v = &r->variants[j];
      if (v->kind == kind && (label == NULL || strcmp (v->label, label) == 0) &&
          v->error == NULL && v->stats.n > 0)
        return v;
    }
  return NULL;
}

static void
case_result_clear (CaseResult *r)
{
  bench_data_clear (&r->data);
  for (gsize j = 0; j < r->n_variants; j++)
    {
      g_clear_pointer (&r->variants[j].samples, g_free);
      g_clear_pointer (&r->variants[j].error, g_free);
    }
}

/* ---- Reporting: numbers --------------------------------------------------------- */

static double
gbps (gsize bytes, double ns)
{
  return (double) bytes / ns;  /* bytes per ns = GB/s (10^9) */
}

/* a / b for medians: how many times faster the denominator ran. */
static double
speedup (const Variant *slow, const Variant *fast)
{
  if (slow == NULL || fast == NULL)
    return NAN;
  return slow->stats.median / fast->stats.median;
}

/* ---- Reporting: JSON -------------------------------------------------------------- */

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
add_bool (JsonBuilder *b, const char *name, gboolean value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_boolean_value (b, value);
}

static void
add_timing (JsonBuilder *b, const Variant *v, const BenchData *d)
{
  kestrel_cli_json_add_double (b, "median_ns", v->stats.median);
  kestrel_cli_json_add_double (b, "p10_ns", v->stats.p10);
  kestrel_cli_json_add_double (b, "p90_ns", v->stats.p90);
  kestrel_cli_json_add_double (b, "gbps", gbps (d->input_bytes, v->stats.median));
  if (d->pixels > 0)
    kestrel_cli_json_add_double (b, "mpix_per_s", (double) d->pixels / v->stats.median * 1e3);
}

static void
build_case_json (JsonBuilder *b, const CaseResult *r)
{
  const BenchCase *c = r->bcase;
  const BenchData *d = &r->data;
  const Variant *scalar = find_variant (r, VARIANT_KERNEL, "scalar");
  const Variant *copy = find_variant (r, VARIANT_MEMCPY, NULL);
  const Variant *floor = find_variant (r, VARIANT_FLOOR, NULL);
  const Variant *peer = find_variant (r, VARIANT_PEER, NULL);

  json_builder_begin_object (b);
  add_string (b, "name", c->name);
  add_string (b, "case", d->label);
  add_bool (b, "memory_bound", c->memory_bound);
  add_int (b, "input_bytes", (gint64) d->input_bytes);
  add_int (b, "output_bytes", (gint64) d->output_bytes);
  if (d->pixels > 0)
    add_int (b, "pixels", (gint64) d->pixels);

  json_builder_set_member_name (b, "results");
  json_builder_begin_array (b);
  for (gsize j = 0; j < r->n_variants; j++)
    {
      const Variant *v = &r->variants[j];

      if (v->kind != VARIANT_KERNEL)
        continue;
      json_builder_begin_object (b);
      add_string (b, "isa", v->label);
      add_timing (b, v, d);
      if (scalar != NULL)
        kestrel_cli_json_add_double (b, "ratio_to_scalar", speedup (scalar, v));
      if (copy != NULL)
        kestrel_cli_json_add_double (b, "ratio_to_memcpy", speedup (copy, v));
      if (floor != NULL)
        kestrel_cli_json_add_double (b, "ratio_to_floor", speedup (floor, v));
      if (v->same_code_as != NULL)
        add_string (b, "same_code_as", v->same_code_as);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  if (r->n_skipped > 0)
    {
      json_builder_set_member_name (b, "skipped");
      json_builder_begin_array (b);
      for (gsize i = 0; i < r->n_skipped; i++)
        {
          json_builder_begin_object (b);
          add_string (b, "isa", r->skipped[i].isa);
          add_string (b, "reason", r->skipped[i].reason);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
    }

  if (copy != NULL)
    {
      json_builder_set_member_name (b, "memcpy");
      json_builder_begin_object (b);
      add_int (b, "bytes", (gint64) d->input_bytes);
      kestrel_cli_json_add_double (b, "median_ns", copy->stats.median);
      kestrel_cli_json_add_double (b, "gbps", gbps (d->input_bytes, copy->stats.median));
      json_builder_end_object (b);
    }

  if (floor != NULL)
    {
      json_builder_set_member_name (b, "floor");
      json_builder_begin_object (b);
      kestrel_cli_json_add_double (b, "median_ns", floor->stats.median);
      kestrel_cli_json_add_double (b, "p10_ns", floor->stats.p10);
      kestrel_cli_json_add_double (b, "p90_ns", floor->stats.p90);
      json_builder_end_object (b);
    }

  for (gsize j = 0; j < r->n_variants; j++)
    {
      const Variant *v = &r->variants[j];

      if (v->kind != VARIANT_PEER)
        continue;
      json_builder_set_member_name (b, "peer");
      json_builder_begin_object (b);
      add_string (b, "name", v->label);
      add_string (b, "pipeline", c->peer_pipeline);
      if (v->error != NULL)
        {
          add_string (b, "error", v->error);
          json_builder_end_object (b);
          continue;
        }
      add_timing (b, v, d);
      kestrel_cli_json_add_double (b, "max_abs_diff_vs_scalar", r->peer_max_abs_diff);
      if (floor != NULL)
        kestrel_cli_json_add_double (b, "floor_speedup", speedup (v, floor));
      json_builder_set_member_name (b, "kestrel_speedup");
      json_builder_begin_object (b);
      for (gsize k = 0; k < r->n_variants; k++)
        if (r->variants[k].kind == VARIANT_KERNEL)
          kestrel_cli_json_add_double (b, r->variants[k].label, speedup (peer, &r->variants[k]));
      json_builder_end_object (b);
      json_builder_end_object (b);
    }

  json_builder_end_object (b);
}

static void
build_header_json (JsonBuilder *b, const Options *opt, const Peer *peer, const GError *blas_error)
{
  add_string (b, "cpu", kk_cpu_features_get ()->brand);
  add_int (b, "threads", 1);
  add_int (b, "runs", opt->runs);
  add_int (b, "warmup", opt->warmup);
  add_bool (b, "quick", opt->quick);

  json_builder_set_member_name (b, "isas");
  json_builder_begin_array (b);
  for (int i = 0; i < KK_ISA_COUNT; i++)
    if (kk_kernels_get ((kk_isa) i) != NULL)
      json_builder_add_string_value (b, kk_isa_name (i));
  json_builder_end_array (b);

  /* With a complete table every case must have a result for that ISA. */
  json_builder_set_member_name (b, "tables_complete");
  json_builder_begin_object (b);
  for (int i = 0; i < KK_ISA_COUNT; i++)
    if (kk_kernels_get ((kk_isa) i) != NULL)
      add_bool (b, kk_isa_name (i), kk_kernels_is_complete (kk_kernels_get ((kk_isa) i)));
  json_builder_end_object (b);

  json_builder_set_member_name (b, "openblas_core");
  if (blas_error == NULL)
    json_builder_add_string_value (b, kestrel_blas_core ());
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "peers");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "opencv");
  json_builder_begin_object (b);
  add_bool (b, "available", peer->api != NULL);
  if (peer->api != NULL)
    {
      add_string (b, "version", peer->api->version);
      add_string (b, "path", peer->path);
      add_int (b, "threads", peer->api->threads);
      add_bool (b, "uses_ipp", peer->api->uses_ipp);
    }
  else
    add_string (b, "reason", peer->reason);
  json_builder_end_object (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "notes");
  json_builder_begin_object (b);
  add_string (b, "median_ns", "median over the runs after warm-up; variants interleaved round robin");
  add_string (b, "gbps", "input_bytes / median_ns (10^9 bytes per second)");
  add_string (b, "mpix_per_s", "output pixels / median time, in millions per second");
  add_string (b, "ratio_to_scalar", "scalar median_ns / this ISA's median_ns (>1: faster than scalar)");
  add_string (b, "memcpy", MEMCPY_MEANING);
  add_string (b, "floor", FLOOR_MEANING);
  add_string (b, "kestrel_speedup", "peer median_ns / this ISA's median_ns (>1: Kestrel faster)");
  add_string (b, "same_code_as", "the table falls back to a lower ISA's function for this entry");
  json_builder_end_object (b);
}

/* ---- Reporting: text ------------------------------------------------------------------ */

static char *
format_time (double ns)
{
  if (!isfinite (ns))
    return g_strdup ("-");
  if (ns < 1e3)
    return g_strdup_printf ("%.0f ns", ns);
  if (ns < 1e6)
    return g_strdup_printf ("%.2f us", ns / 1e3);
  return g_strdup_printf ("%.3f ms", ns / 1e6);
}

static char *
format_ratio (double x)
{
  return isfinite (x) ? g_strdup_printf ("%.2f", x) : g_strdup ("-");
}

static void
print_text_header (const Options *opt, const Peer *peer, const GError *blas_error)
{
  printf ("Kestrel kernels on %s, 1 thread, median of %d runs after %d warm-up%s\n",
          kk_cpu_features_get ()->brand, opt->runs, opt->warmup, opt->quick ? " (quick sizes)" : "");
  printf ("Instruction sets:");
  for (int i = 0; i < KK_ISA_COUNT; i++)
    {
      const kk_kernels *t = kk_kernels_get ((kk_isa) i);
      if (t != NULL)
        printf (" %s%s", kk_isa_name (i), kk_kernels_is_complete (t) ? "" : " (incomplete table)");
    }
  printf ("\n");
  if (peer->api != NULL)
    printf ("OpenCV %s peer, %d thread%s%s (%s)\n", peer->api->version, peer->api->threads,
            peer->api->threads == 1 ? "" : "s", peer->api->uses_ipp ? ", with IPP" : "", peer->path);
  else
    printf ("OpenCV peer not available: %s\n", peer->reason);
  if (blas_error != NULL)
    printf ("OpenBLAS: %s\n", blas_error->message);
  printf ("x scalar = scalar time / time; x memcpy = bandwidth / memcpy's on the same input bytes;\n"
          "x opencv = OpenCV time / time (>1: Kestrel faster). GB/s counts input bytes.\n"
          "floor = only reading the cache lines the job needs and writing its output; its x opencv\n"
          "is the most any kernel could show in this run.\n\n");
  printf ("  %-10s %12s %8s %9s %9s %9s %9s\n",
          "isa", "median", "GB/s", "Mpix/s", "x scalar", "x memcpy", "x opencv");
}

static void
print_text_row (const CaseResult *r, const Variant *v)
{
  const BenchData *d = &r->data;
  const Variant *scalar = find_variant (r, VARIANT_KERNEL, "scalar");
  const Variant *copy = find_variant (r, VARIANT_MEMCPY, NULL);
  const Variant *peer = find_variant (r, VARIANT_PEER, NULL);
  g_autofree char *median = format_time (v->stats.median);
  g_autofree char *x_scalar = format_ratio (v->kind == VARIANT_MEMCPY || v->kind == VARIANT_FLOOR ? (double) NAN : speedup (scalar, v));
  g_autofree char *x_memcpy = format_ratio (speedup (copy, v));
  g_autofree char *x_peer = format_ratio (v->kind == VARIANT_KERNEL || v->kind == VARIANT_FLOOR ? speedup (peer, v) : (double) NAN);
  g_autofree char *mpix = d->pixels > 0 && v->kind != VARIANT_MEMCPY && v->kind != VARIANT_FLOOR ? g_strdup_printf ("%.1f", (double) d->pixels / v->stats.median * 1e3)
                                         : g_strdup ("-");

  if (v->error != NULL)
    {
      printf ("  %-10s failed: %s\n", v->label, v->error);
      return;
    }
  printf ("  %-10s %12s %8.2f %9s %9s %9s %9s", v->label, median,
          gbps (d->input_bytes, v->stats.median), mpix, x_scalar, x_memcpy, x_peer);
  if (v->same_code_as != NULL)
    printf ("  (same code as %s)", v->same_code_as);
  if (v->kind == VARIANT_PEER && isfinite (r->peer_max_abs_diff))
    printf ("  (max |diff| vs scalar %g)", r->peer_max_abs_diff);
  printf ("\n");
}

static void
print_text_case (const CaseResult *r)
{
  const BenchData *d = &r->data;

  printf ("%s  %s, %.2f MB in\n", r->bcase->name, d->label, (double) d->input_bytes / 1e6);
  if (find_variant (r, VARIANT_KERNEL, NULL) == NULL)
    {
      printf ("  skipped: no instruction set's table has this kernel yet (NULL entries)\n");
      fflush (stdout);
      return;
    }
  /* The ISAs, then what they are compared with. */
  for (gsize j = 0; j < r->n_variants; j++)
    if (r->variants[j].kind == VARIANT_KERNEL)
      print_text_row (r, &r->variants[j]);
  for (gsize i = 0; i < r->n_skipped; i++)
    printf ("  %-10s skipped: %s\n", r->skipped[i].isa, r->skipped[i].reason);
  for (gsize j = 0; j < r->n_variants; j++)
    if (r->variants[j].kind != VARIANT_KERNEL)
      print_text_row (r, &r->variants[j]);
  if (find_variant (r, VARIANT_PEER, NULL) != NULL)
    printf ("  opencv = %s\n", r->bcase->peer_pipeline);
  fflush (stdout);
}

/* ---- The command ----------------------------------------------------------------------- */

static gboolean
case_selected (const BenchCase *c, const Options *opt)
{
  if (opt->kernels == NULL)
    return TRUE;
  for (char **p = opt->kernels; *p != NULL; p++)
    if (g_pattern_match_simple (*p, c->name))
      return TRUE;
  return FALSE;
}

/* Every --kernel must name something, or the user made a typo. */
static gboolean
check_kernel_names (const Options *opt, GError **error)
{
  gsize n_cases;
  const BenchCase *cases = bench_cases (&n_cases);

  if (opt->kernels == NULL)
    return TRUE;
  for (char **p = opt->kernels; *p != NULL; p++)
    {
      gboolean found = FALSE;
      g_autoptr(GString) names = g_string_new (NULL);

      for (gsize i = 0; i < n_cases; i++)
        {
          found |= g_pattern_match_simple (*p, cases[i].name);
          if (i == 0 || strcmp (cases[i].name, cases[i - 1].name) != 0)
            g_string_append_printf (names, "%s%s", i ? ", " : "", cases[i].name);
        }
      if (!found)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--kernel: no kernel matches '%s'; kernels: %s", *p, names->str);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
parse_options (int argc, char **argv, Options *opt, GError **error)
{
  int runs = -1;
  const KestrelCliRange ranges[] = { { "runs", 1, 100000 }, { NULL } };
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt->json, "Print one JSON object", NULL },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs, "Timed runs per variant (default 31, 5 with --quick)", "N" },
    { "quick", 0, 0, G_OPTION_ARG_NONE, &opt->quick, "Few runs on small inputs (for tests)", NULL },
    { "kernel", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt->kernels,
      "Only this kernel (a glob such as 'gray_*'; repeatable)", "NAME" },
    { NULL }
  };
  g_autoptr(GOptionContext) context =
    g_option_context_new ("- time the image and conversion kernels on every instruction set, side by side");

  g_option_context_set_description (context,
    "Single thread. Reports medians, throughput, the speed-up over the scalar\n"
    "reference, bandwidth against memcpy for memory-bound kernels, and OpenCV\n"
    "(if its peer module is found; KESTREL_PEER_DIR adds a place to look).");
  if (!kestrel_cli_parse_options ("bench-kernels", context, entries, ranges, NULL, 0, 0, &argc, &argv))
    return FALSE;
  opt->runs = runs != -1 ? runs : (opt->quick ? QUICK_RUNS : DEFAULT_RUNS);
  opt->warmup = opt->quick ? QUICK_WARMUP : DEFAULT_WARMUP;
  return check_kernel_names (opt, error);
}

int
kestrel_cli_bench_kernels (int argc, char **argv)
{
  Options opt = { 0 };
  Peer peer = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) blas_error = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  gsize n_cases;
  const BenchCase *cases = bench_cases (&n_cases);

  /* The option parser reports its own errors; the kernel names' come back. */
  if (!parse_options (argc, argv, &opt, &error))
    {
      if (error != NULL)
        kestrel_cli_fail ("bench-kernels", error->message, 2);
      g_strfreev (opt.kernels);
      return 2;
    }

  /* Before OpenCV can bring OpenBLAS in: this sets OPENBLAS_CORETYPE. A
   * failure only matters to the peer, so it is reported, not fatal. */
  kestrel_blas_init (&blas_error);
  peer_load (&peer);

  if (opt.json)
    {
      b = json_builder_new ();
      json_builder_begin_object (b);
      build_header_json (b, &opt, &peer, blas_error);
      json_builder_set_member_name (b, "kernels");
      json_builder_begin_array (b);
    }
  else
    print_text_header (&opt, &peer, blas_error);

  for (gsize i = 0; i < n_cases; i++)
    {
      CaseResult r = { .bcase = &cases[i] };

      if (!case_selected (&cases[i], &opt))
        continue;
      cases[i].setup (&cases[i], &r.data, opt.quick);
      plan_variants (&r, &peer);
      /* Nothing of ours to time (kernels come first): memcpy and the peer
       * alone would be noise. */
      if (r.n_variants == 0 || r.variants[0].kind != VARIANT_KERNEL)
        r.n_variants = 0;
      measure (&r, &opt, &peer);
      compare_peer (&r, &peer);
      if (opt.json)
        build_case_json (b, &r);
      else
        print_text_case (&r);
      case_result_clear (&r);
    }

  if (opt.json)
    {
      json_builder_end_array (b);
      json_builder_end_object (b);
      g_autoptr(JsonNode) root = json_builder_get_root (b);
      kestrel_cli_print_json (root, FALSE);
    }

  g_strfreev (opt.kernels);
  g_free (peer.path);
  g_free (peer.reason);
  return 0;
}
