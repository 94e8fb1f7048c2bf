/* conformance-table.c — the Markdown table of docs/conformance.md from the
 * cases test-onnx-conformance.c ran: per operator, whether it is one the
 * table holds Kestrel to (a vision operator), its passed, failed and
 * skipped cases, and why each case left does not pass. */
#include <string.h>

#include "conformance-case.h"
#include "conformance-classes.h"

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Why cases are skipped, grouped: the first group whose text the reason
 * contains. `label` is the short form for the per-operator column. */
static const struct {
  const char *needle;
  const char *label;
  const char *why;
} skip_groups[] = {
  { "element type", "data type",
    "a data type Kestrel does not have (string, bfloat16, int16, unsigned 16- to "
    "64-bit integers; vision models compute in float32, float16 and 8-bit integers)" },
  { "no such data type", "data type", NULL },
  { "not a data type Kestrel has", "data type", NULL },
  { "not a tensor", "sequences", "sequences, maps and optionals (not tensors)" },
  { "subgraphs", "control flow", "control flow (If, Loop, Scan: subgraphs)" },
  { "training", "training", "training behaviour (random dropout, batch statistics)" },
  { "must be a constant", "run-time shape",
    "a shape that depends on values known only while running (Kestrel plans static shapes)" },
  { "is not supported by Kestrel", "operator missing",
    "an operator Kestrel does not implement (listed below, with why)" },
};
#define N_GROUPS (G_N_ELEMENTS (skip_groups) + 1) /* + "other" */

static guint
skip_group (const Case *c)
{
  guint g = 0;
  while (g < G_N_ELEMENTS (skip_groups) && strstr (c->skip_reason, skip_groups[g].needle) == NULL)
    g++;
  /* Groups sharing a text are counted at their first entry. */
  while (g < G_N_ELEMENTS (skip_groups) && skip_groups[g].why == NULL)
    g--;
  return g;
}

static const char *
group_label (guint g)
{
  return g < G_N_ELEMENTS (skip_groups) ? skip_groups[g].label : "other";
}

static const char *
group_why (guint g)
{
  return g < G_N_ELEMENTS (skip_groups) ? skip_groups[g].why : "other";
}

/* The first operator of a case's model that is not a vision operator. */
static const char *
first_out_op (const Case *c)
{
  for (guint o = 0; o < c->ops->len; o++)
    if (conformance_op_out_reason (g_ptr_array_index (c->ops, o)) != NULL)
      return g_ptr_array_index (c->ops, o);
  return NULL;
}

typedef struct {
  guint passed, failed, skipped, bound;
  guint left_by_group[N_GROUPS]; /* vision cases skipped, by why */
  guint left_non_vision;         /* skipped cases whose model uses an operator left out */
} OpCounts;

static void
append_left (GString *out, const char *op, const OpCounts *counts)
{
  const char *out_reason = conformance_op_out_reason (op);
  gboolean first = TRUE;

  if (out_reason != NULL)
    {
      g_string_append_printf (out, "not a vision operator: %s", out_reason);
      return;
    }
  if (counts->failed == 0 && counts->skipped == 0)
    {
      g_string_append (out, "none");
      return;
    }
  if (counts->failed > 0)
    {
      g_string_append_printf (out, "%u failing", counts->failed);
      first = FALSE;
    }
  for (guint g = 0; g < N_GROUPS; g++)
    if (counts->left_by_group[g] > 0)
      {
        g_string_append_printf (out, "%s%u %s", first ? "" : ", ", counts->left_by_group[g],
                                group_label (g));
        first = FALSE;
      }
  if (counts->left_non_vision > 0)
    g_string_append_printf (out, "%s%u in models that also use an operator left out",
                            first ? "" : ", ", counts->left_non_vision);
}

static void
append_out_group (const char *reason, GPtrArray *ops, gpointer data)
{
  GString *out = data;

  g_string_append_printf (out, "| %s | ", reason);
  for (guint i = 0; i < ops->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? ", " : "", (const char *) g_ptr_array_index (ops, i));
  g_string_append (out, " |\n");
}

static void
append_case_rows (GString *out, GPtrArray *cases, gboolean vision)
{
  for (guint i = 0; i < cases->len; i++)
    {
      Case *c = g_ptr_array_index (cases, i);
      g_autofree char *reason = NULL;

      if (c->vision != vision || (c->skip_reason == NULL && !c->failed))
        continue;
      if (c->failed)
        reason = g_strdup ("fails (see the test's log)");
      else if (!vision)
        reason = g_strdup_printf ("uses %s (%s); %s", first_out_op (c),
                                  conformance_op_out_reason (first_out_op (c)), c->skip_reason);
      else
        reason = g_strdup_printf ("%s: %s", group_label (skip_group (c)), c->skip_reason);
      g_strdelimit (reason, "|\n", ' ');
      g_string_append_printf (out, "| %s/%s | %s |\n", c->suite, c->name, reason);
    }
}

void
conformance_write_table (GPtrArray *cases, const char *path)
{
  g_autoptr(GHashTable) per_op = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  guint passed = 0, failed = 0, skipped = 0;
  guint v_passed = 0, v_failed = 0, v_skipped = 0, v_by_group[N_GROUPS] = { 0 };
  guint by_group[N_GROUPS] = { 0 };

  for (guint i = 0; i < cases->len; i++)
    {
      Case *c = g_ptr_array_index (cases, i);
      guint g = c->skip_reason != NULL && !c->failed ? skip_group (c) : 0;

      if (c->failed)
        failed++, v_failed += c->vision;
      else if (c->skip_reason)
        {
          skipped++, by_group[g]++;
          if (c->vision)
            v_skipped++, v_by_group[g]++;
        }
      else
        passed++, v_passed += c->vision;
      for (guint o = 0; o < c->ops->len; o++)
        {
          const char *op = g_ptr_array_index (c->ops, o);
          OpCounts *counts = g_hash_table_lookup (per_op, op);
          if (counts == NULL)
            {
              counts = g_new0 (OpCounts, 1);
              g_hash_table_insert (per_op, (gpointer) op, counts);
              g_ptr_array_add (names, (gpointer) op);
            }
          if (c->failed)
            counts->failed++;
          else if (c->skip_reason)
            {
              counts->skipped++;
              if (c->vision)
                counts->left_by_group[g]++;
              else
                counts->left_non_vision++;
            }
          else
            {
              counts->passed++;
              counts->bound += c->bound_inputs;
            }
        }
    }
  g_ptr_array_sort (names, compare_strings);

  g_string_append (out, "# ONNX conformance\n\n"
                   "Generated by `scripts/conformance-table.sh` from Debian's libonnx-testdata:\n"
                   "each case runs at every optimisation level (scalar, simd, parallel, full)\n"
                   "and its outputs are compared with the stored ones (rtol 1e-3, atol 1e-5).\n"
                   "A case counts once for every operator its model uses. Cases whose\n"
                   "shape-deciding inputs (Resize sizes, Pad pads...) the data feeds at run\n"
                   "time run with those inputs bound as constants, as Kestrel plans need\n"
                   "static shapes; they are marked in the column \"bound\". When the first\n"
                   "input decides a shape too (Range's start, NonMaxSuppression's boxes),\n"
                   "every input is bound and the case checks the operator as the\n"
                   "constant-folding pass evaluates it.\n\n"
                   "A **vision operator** is any ONNX operator not left out below (the\n"
                   "operators of the ONNX Model Zoo's vision models and of the exporters'\n"
                   "detection, segmentation, pose, OCR and super-resolution heads, with\n"
                   "ONNX's quantized operators); a **vision case** is one whose model uses\n"
                   "vision operators only. The list of operators left out is in\n"
                   "tests/conformance/conformance-classes.c.\n\n");
  g_string_append_printf (out, "All cases: %u passed, %u failed, %u skipped, of %u.\n\n",
                          passed, failed, skipped, cases->len);
  g_string_append_printf (out, "Vision cases: %u passed, %u failed, %u skipped, of %u",
                          v_passed, v_failed, v_skipped, v_passed + v_failed + v_skipped);
  for (guint g = 0, first = TRUE; g < N_GROUPS; g++)
    if (v_by_group[g] > 0)
      {
        g_string_append_printf (out, "%s%u %s", first ? " (skipped: " : ", ", v_by_group[g],
                                group_label (g));
        first = FALSE;
      }
  g_string_append (out, v_skipped > 0 ? ").\n\n" : ".\n\n");

  g_string_append (out, "| operator | passed | failed | skipped | bound | cases left, and why |\n"
                        "|---|---:|---:|---:|---:|---|\n");
  for (guint i = 0; i < names->len; i++)
    {
      const char *op = g_ptr_array_index (names, i);
      const OpCounts *counts = g_hash_table_lookup (per_op, op);

      g_string_append_printf (out, "| %s | %u | %u | %u | %u | ", op, counts->passed,
                              counts->failed, counts->skipped, counts->bound);
      append_left (out, op, counts);
      g_string_append (out, " |\n");
    }

  g_string_append (out, "\n## Why cases are skipped\n\n| reason | short form | all cases | vision cases |\n"
                        "|---|---|---:|---:|\n");
  for (guint g = 0; g < N_GROUPS; g++)
    if (by_group[g] > 0)
      g_string_append_printf (out, "| %s | %s | %u | %u |\n", group_why (g), group_label (g),
                              by_group[g], v_by_group[g]);

  g_string_append (out, "\n## Operators left out, and why\n\n"
                        "Those the data has cases for; their cases, and every case whose model\n"
                        "uses one of them, are not vision cases.\n\n"
                        "| why | operators |\n|---|---|\n");
  conformance_foreach_out_reason (names, append_out_group, out);

  g_string_append (out, "\n## Vision cases that do not pass\n\n| case | why |\n|---|---|\n");
  append_case_rows (out, cases, TRUE);
  g_string_append (out, "\n## Other cases skipped\n\n| case | why |\n|---|---|\n");
  append_case_rows (out, cases, FALSE);
  if (!g_file_set_contents (path, out->str, out->len, NULL))
    g_printerr ("could not write %s\n", path);
}
