/* ops-nn-einsum-any.c — Einsum for the equations that are not one matrix
 * product: one input or more than two, a letter summed within one input, a
 * letter repeated in a term (sums, transposes, traces, diagonals). This is
 * the definition itself: every output element is the sum, over every
 * combination of the summed letters' values, of the product of the inputs'
 * elements those values address. Plain and slow, which is fine for the
 * small bookkeeping tensors such equations take; ops-nn-einsum.c runs the
 * matrix products, and uses this for the rest.
 *
 * Sums accumulate in double and are rounded to the operands' type (float32
 * or float64) once. Every input's ellipsis must cover the same number of
 * dimensions with the same sizes (no broadcasting between them).
 */
#include "config.h"

#include "ops-nn.h"

#include <string.h>

#include "kestrel-error.h"

#define N_CODES (KESTREL_EINSUM_LETTERS + KESTREL_TENSOR_MAX_DIMS)

struct _KestrelEinsumAny {
  guint n_inputs;
  guint n_out, n_sum;            /* the letters: output ones first, then summed ones */
  gint64 size[N_CODES];          /* per letter, in that order */
  gint64 *stride;                /* [n_inputs + 1][n_out + n_sum]: 0 where absent */
  gsize out_count, sum_count;
};

void
kestrel_einsum_any_free (KestrelEinsumAny *any)
{
  if (any == NULL)
    return;
  g_free (any->stride);
  g_free (any);
}

/* The terms of the equation split at commas and the arrow. */
static gboolean
split_terms (const char *eq, guint n_inputs, const char **start, gsize *len, gboolean *explicit)
{
  const char *arrow = strstr (eq, "->");
  const char *end = arrow != NULL ? arrow : eq + strlen (eq);
  const char *p = eq;

  for (guint t = 0; t < n_inputs; t++)
    {
      const char *comma = memchr (p, ',', end - p);
      const char *term_end = comma != NULL ? comma : end;

      if ((t + 1 < n_inputs) != (comma != NULL))
        return FALSE;
      start[t] = p;
      len[t] = term_end - p;
      p = term_end + 1;
    }
  *explicit = arrow != NULL;
  if (arrow != NULL)
    {
      start[n_inputs] = arrow + 2;
      len[n_inputs] = strlen (arrow + 2);
    }
  return TRUE;
}

static gint
code_index (const gint *codes, guint n, gint code)
{
  for (guint i = 0; i < n; i++)
    if (codes[i] == code)
      return (gint) i;
  return -1;
}

KestrelEinsumAny *
kestrel_einsum_any_new (const KestrelNode *node, guint n_inputs, const guint *ranks,
                        const gint64 *const *shapes, guint *out_dims, gint64 *out_shape,
                        GError **error)
{
  const char *equation = kestrel_node_attr_string (node, "equation", "");
  g_autofree const char **start = g_new0 (const char *, n_inputs + 1);
  g_autofree gsize *len = g_new0 (gsize, n_inputs + 1);
  g_autofree gint *letters = g_new0 (gint, (n_inputs + 1) * KESTREL_TENSOR_MAX_DIMS);
  g_autofree guint *n_letters = g_new0 (guint, n_inputs + 1);
  gint order[N_CODES];
  guint n_order = 0, ellipsis = G_MAXUINT;
  gboolean explicit = FALSE;
  KestrelEinsumAny *any;
  g_autofree char *why = NULL;
  gsize total;

  if (n_inputs == 0 || !split_terms (equation, n_inputs, start, len, &explicit))
    why = g_strdup_printf ("it does not have %u input terms", n_inputs);
  for (guint t = 0; why == NULL && t < n_inputs; t++)
    if (!kestrel_einsum_parse_term (start[t], len[t], ranks[t], &ellipsis,
                                    letters + t * KESTREL_TENSOR_MAX_DIMS, &n_letters[t]))
      why = g_strdup_printf ("term %u does not match input %u's rank %u", t, t, ranks[t]);
  if (why == NULL && explicit
      && !kestrel_einsum_parse_term (start[n_inputs], len[n_inputs], G_MAXUINT, &ellipsis,
                                     letters + n_inputs * KESTREL_TENSOR_MAX_DIMS,
                                     &n_letters[n_inputs]))
    why = g_strdup ("the output term is not letters and one ellipsis");
  if (why == NULL && !explicit)
    {
      /* Implicit output: the ellipsis, then the letters used once,
       * alphabetically. */
      gint *out = letters + n_inputs * KESTREL_TENSOR_MAX_DIMS;
      for (guint d = 0; ellipsis != G_MAXUINT && d < ellipsis; d++)
        out[n_letters[n_inputs]++] = KESTREL_EINSUM_LETTERS + (gint) d;
      for (gint code = 0; code < KESTREL_EINSUM_LETTERS && why == NULL; code++)
        {
          guint count = 0;
          for (guint t = 0; t < n_inputs; t++)
            for (guint i = 0; i < n_letters[t]; i++)
              count += letters[t * KESTREL_TENSOR_MAX_DIMS + i] == code;
          if (count == 1 && n_letters[n_inputs] >= KESTREL_TENSOR_MAX_DIMS)
            why = g_strdup ("the output would have too many dimensions");
          else if (count == 1)
            out[n_letters[n_inputs]++] = code;
        }
    }
  if (why != NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT, "equation '%s': %s", equation,
                              why);
      return NULL;
    }

  /* Output letters first, each once, each in some input. */
  for (guint i = 0; i < n_letters[n_inputs]; i++)
    {
      gint code = letters[n_inputs * KESTREL_TENSOR_MAX_DIMS + i];
      gboolean found = FALSE;

      if (code_index (order, n_order, code) >= 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "equation '%s': a letter repeats in the output", equation);
          return NULL;
        }
      for (guint t = 0; t < n_inputs && !found; t++)
        found = code_index (letters + t * KESTREL_TENSOR_MAX_DIMS, n_letters[t], code) >= 0;
      if (!found)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "equation '%s': an output letter is in no input", equation);
          return NULL;
        }
      order[n_order++] = code;
    }
  any = g_new0 (KestrelEinsumAny, 1);
  any->n_inputs = n_inputs;
  any->n_out = n_order;
  for (guint t = 0; t < n_inputs; t++)
    for (guint i = 0; i < n_letters[t]; i++)
      if (code_index (order, n_order, letters[t * KESTREL_TENSOR_MAX_DIMS + i]) < 0)
        order[n_order++] = letters[t * KESTREL_TENSOR_MAX_DIMS + i];
  any->n_sum = n_order - any->n_out;

  /* Each letter's size, the same wherever it is, and its strides. */
  for (guint l = 0; l < n_order; l++)
    any->size[l] = -1;
  any->stride = g_new0 (gint64, (n_inputs + 1) * MAX (n_order, 1));
  for (guint t = 0; t < n_inputs; t++)
    {
      gint64 stride[KESTREL_TENSOR_MAX_DIMS];

      kestrel_shape_strides (ranks[t], shapes[t], stride);
      for (guint i = 0; i < n_letters[t]; i++)
        {
          guint l = (guint) code_index (order, n_order, letters[t * KESTREL_TENSOR_MAX_DIMS + i]);
          if (any->size[l] >= 0 && any->size[l] != shapes[t][i])
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                      "equation '%s': a letter has size %" G_GINT64_FORMAT
                                      " in one place and %" G_GINT64_FORMAT " in another",
                                      equation, any->size[l], shapes[t][i]);
              kestrel_einsum_any_free (any);
              return NULL;
            }
          any->size[l] = shapes[t][i];
          /* A repeated letter adds its strides: the diagonal. */
          any->stride[t * n_order + l] += stride[i];
        }
    }
  *out_dims = any->n_out;
  for (guint l = 0; l < any->n_out; l++)
    out_shape[l] = any->size[l];
  {
    gint64 stride[KESTREL_TENSOR_MAX_DIMS];
    kestrel_shape_strides (any->n_out, out_shape, stride);
    for (guint l = 0; l < any->n_out; l++)
      any->stride[n_inputs * n_order + l] = stride[l];
  }
  any->out_count = (gsize) kestrel_shape_product (any->size, 0, any->n_out);
  any->sum_count = (gsize) kestrel_shape_product (any->size, any->n_out, n_order);
  /* The loop visits out_count * sum_count combinations: refuse what would
   * not finish. */
  if (!g_size_checked_mul (&total, MAX (any->out_count, 1), MAX (any->sum_count, 1))
      || total > ((gsize) 1 << 32))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "equation '%s' would visit more than 2^32 combinations of its "
                              "letters; Kestrel runs such equations with its plain reference "
                              "loop only for small tensors", equation);
      kestrel_einsum_any_free (any);
      return NULL;
    }
  return any;
}

typedef struct {
  const KestrelEinsumAny *any;
  const KestrelStep *step;
} AnyJob;

static void
any_chunk (gsize begin, gsize end, guint worker G_GNUC_UNUSED, gpointer user_data)
{
  const AnyJob *job = user_data;
  const KestrelEinsumAny *any = job->any;
  const KestrelStep *step = job->step;
  const guint n_order = any->n_out + any->n_sum;
  const KestrelDType dtype = step->outputs[0].dtype;

  for (gsize o = begin; o < end; o++)
    {
      gint64 base[KESTREL_EINSUM_MAX_INPUTS] = { 0 }, value[N_CODES] = { 0 };
      gsize rest = o;
      double acc = 0;

      /* The output letters' values, and the offsets they give each input. */
      for (gint l = (gint) any->n_out - 1; l >= 0; l--)
        {
          value[l] = (gint64) (rest % (gsize) any->size[l]);
          rest /= (gsize) any->size[l];
        }
      for (guint t = 0; t < any->n_inputs; t++)
        for (guint l = 0; l < any->n_out; l++)
          base[t] += value[l] * any->stride[t * n_order + l];

      for (gsize s = 0; s < any->sum_count; s++)
        {
          double product = 1;

          rest = s;
          for (gint l = (gint) n_order - 1; l >= (gint) any->n_out; l--)
            {
              value[l] = (gint64) (rest % (gsize) any->size[l]);
              rest /= (gsize) any->size[l];
            }
          for (guint t = 0; t < any->n_inputs; t++)
            {
              gint64 offset = base[t];
              for (guint l = any->n_out; l < n_order; l++)
                offset += value[l] * any->stride[t * n_order + l];
              product *= kestrel_op_load_double (dtype, step->inputs[t].data, (gsize) offset);
            }
          acc += product;
        }
      kestrel_op_store_double (dtype, step->outputs[0].data, o, acc);
    }
}

void
kestrel_einsum_any_run (const KestrelEinsumAny *any, const KestrelStep *step)
{
  AnyJob job = { any, step };

  kestrel_step_parallel_for (step, any->out_count, any_chunk, &job);
}
