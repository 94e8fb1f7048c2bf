/* ops-nn-einsum.c — Einsum (opsets 12 to 21) where it is a matrix product.
 *
 * Exporters write attention and projections as Einsum: "ij,jk->ik",
 * "bij,bkj->bik" (a transposed operand), "bhid,bhjd->bhij",
 * "...ij,...jk->...ik". All of them are one batched matrix product with
 * the operands and the output read through strides: with two inputs, every
 * letter is
 *   batch     in both inputs and the output,
 *   row (M)   in the first input and the output only,
 *   col (N)   in the second input and the output only,
 *   summed (K) in both inputs but not the output.
 * Other equations (one input or more than two, a letter repeated in one
 * term (diagonals), a letter summed away from a single input) are no
 * matrix product: ops-nn-einsum-any.c runs them by the definition.
 * float32 and float64; sums in the operands' type in the order of the
 * summed letters.
 */
#include "config.h"

#include "ops-nn.h"

#include <string.h>

#include "kestrel-error.h"

static const KestrelDType einsum_dtypes[] = { KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_FLOAT64 };

typedef enum { ROLE_BATCH, ROLE_M, ROLE_N, ROLE_K, N_ROLES } LetterRole;

/* The parsed equation: each term as letter codes 0..51 (a-z, A-Z), with
 * an ellipsis expanded into codes 52.. counting from its first dimension. */
typedef struct {
  guint n[3];              /* letters in A, B, output */
  gint letters[3][KESTREL_TENSOR_MAX_DIMS];
} Equation;

static gint
letter_code (char c)
{
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= 'A' && c <= 'Z')
    return 26 + (c - 'A');
  return -1;
}

/* Parses one term; `rank` is the operand's rank (G_MAXUINT for the output,
 * whose ellipsis has `ellipsis_dims`). */
gboolean
kestrel_einsum_parse_term (const char *term, gsize len, guint rank, guint *ellipsis_dims,
                           gint *letters, guint *n)
{
  guint named = 0;
  gboolean has_ellipsis = FALSE;

  for (gsize i = 0; i < len; i++)
    if (term[i] == '.')
      {
        if (has_ellipsis || i + 2 >= len + 0 || term[i + 1] != '.' || term[i + 2] != '.')
          return FALSE;
        has_ellipsis = TRUE;
        i += 2;
      }
    else if (term[i] != ' ')
      {
        if (letter_code (term[i]) < 0)
          return FALSE;
        named++;
      }
  if (rank != G_MAXUINT)
    {
      if (has_ellipsis ? named > rank : named != rank)
        return FALSE;
      if (has_ellipsis)
        {
          guint e = rank - named;
          if (*ellipsis_dims != G_MAXUINT && *ellipsis_dims != e)
            return FALSE;  /* ellipses of different ranks would broadcast */
          *ellipsis_dims = e;
        }
    }
  *n = 0;
  for (gsize i = 0; i < len; i++)
    if (term[i] == '.')
      {
        guint e = *ellipsis_dims == G_MAXUINT ? 0 : *ellipsis_dims;
        for (guint d = 0; d < e; d++)
          {
            if (*n >= KESTREL_TENSOR_MAX_DIMS)
              return FALSE;
            letters[(*n)++] = KESTREL_EINSUM_LETTERS + (gint) d;
          }
        i += 2;
      }
    else if (term[i] != ' ')
      {
        if (*n >= KESTREL_TENSOR_MAX_DIMS)
          return FALSE;
        letters[(*n)++] = letter_code (term[i]);
      }
  return TRUE;
}

static gboolean
parse_equation (const char *eq, guint rank_a, guint rank_b, Equation *out)
{
  const char *arrow = strstr (eq, "->");
  const char *comma = strchr (eq, ',');
  const char *lhs_end = arrow != NULL ? arrow : eq + strlen (eq);
  guint ellipsis = G_MAXUINT;

  memset (out, 0, sizeof *out);
  if (comma == NULL || comma > lhs_end || memchr (comma + 1, ',', lhs_end - comma - 1) != NULL)
    return FALSE;
  if (!kestrel_einsum_parse_term (eq, comma - eq, rank_a, &ellipsis, out->letters[0],
                                  &out->n[0])
      || !kestrel_einsum_parse_term (comma + 1, lhs_end - comma - 1, rank_b, &ellipsis,
                                     out->letters[1], &out->n[1]))
    return FALSE;
  if (arrow != NULL)
    return kestrel_einsum_parse_term (arrow + 2, strlen (arrow + 2), G_MAXUINT, &ellipsis,
                                      out->letters[2], &out->n[2]);

  /* Implicit output: the ellipsis, then letters used once, alphabetically. */
  for (guint d = 0; ellipsis != G_MAXUINT && d < ellipsis; d++)
    out->letters[2][out->n[2]++] = KESTREL_EINSUM_LETTERS + (gint) d;
  for (gint code = 0; code < KESTREL_EINSUM_LETTERS; code++)
    {
      guint count = 0;
      for (guint t = 0; t < 2; t++)
        for (guint i = 0; i < out->n[t]; i++)
          count += out->letters[t][i] == code;
      if (count == 1)
        {
          if (out->n[2] >= KESTREL_TENSOR_MAX_DIMS)
            return FALSE;
          out->letters[2][out->n[2]++] = code;
        }
    }
  return TRUE;
}

/* Where a letter is in a term, or -1. */
static gint
find_letter (const Equation *eq, guint term, gint code)
{
  for (guint i = 0; i < eq->n[term]; i++)
    if (eq->letters[term][i] == code)
      return (gint) i;
  return -1;
}

/* The letters by role with their sizes and strides in A, B and the output
 * (0 where absent). */
typedef struct {
  guint n[N_ROLES];
  gint64 size[N_ROLES][KESTREL_TENSOR_MAX_DIMS];
  gint64 stride[N_ROLES][KESTREL_TENSOR_MAX_DIMS][3];
} Roles;

static gboolean
assign_roles (const Equation *eq, const gint64 *a, const gint64 *b, Roles *roles,
              guint *out_dims, gint64 *out_shape, char **why)
{
  gint64 stride[2][KESTREL_TENSOR_MAX_DIMS], out_stride[KESTREL_TENSOR_MAX_DIMS];
  const gint64 *shapes[2] = { a, b };

  memset (roles, 0, sizeof *roles);
  for (guint t = 0; t < 3; t++)
    for (guint i = 0; i < eq->n[t]; i++)
      for (guint j = i + 1; j < eq->n[t]; j++)
        if (eq->letters[t][i] == eq->letters[t][j])
          {
            *why = g_strdup ("a letter repeats within one term (a diagonal)");
            return FALSE;
          }
  for (guint t = 0; t < 2; t++)
    kestrel_shape_strides (eq->n[t], shapes[t], stride[t]);

  *out_dims = eq->n[2];
  for (guint i = 0; i < eq->n[2]; i++)
    {
      gint code = eq->letters[2][i];
      gint ia = find_letter (eq, 0, code), ib = find_letter (eq, 1, code);
      if (ia < 0 && ib < 0)
        {
          *why = g_strdup ("an output letter is in no input");
          return FALSE;
        }
      out_shape[i] = ia >= 0 ? a[ia] : b[ib];
    }
  kestrel_shape_strides (*out_dims, out_shape, out_stride);

  for (guint t = 0; t < 2; t++)
    for (guint i = 0; i < eq->n[t]; i++)
      {
        gint code = eq->letters[t][i];
        gint ia = find_letter (eq, 0, code), ib = find_letter (eq, 1, code);
        gint io = find_letter (eq, 2, code);
        LetterRole role;
        guint slot;

        if (t == 1 && ia >= 0)
          continue;  /* seen with A */
        if (ia >= 0 && ib >= 0)
          {
            if (a[ia] != b[ib])
              {
                *why = g_strdup_printf ("a letter has size %" G_GINT64_FORMAT " in one input "
                                        "and %" G_GINT64_FORMAT " in the other", a[ia], b[ib]);
                return FALSE;
              }
            role = io >= 0 ? ROLE_BATCH : ROLE_K;
          }
        else if (io < 0)
          {
            *why = g_strdup ("a letter is summed away within one input");
            return FALSE;
          }
        else
          role = ia >= 0 ? ROLE_M : ROLE_N;
        slot = roles->n[role]++;
        roles->size[role][slot] = ia >= 0 ? a[ia] : b[ib];
        roles->stride[role][slot][0] = ia >= 0 ? stride[0][ia] : 0;
        roles->stride[role][slot][1] = ib >= 0 ? stride[1][ib] : 0;
        roles->stride[role][slot][2] = io >= 0 ? out_stride[io] : 0;
      }
  return TRUE;
}

/* Whether the equation is one (batched, transposed) matrix product of the
 * two inputs, and if so its roles and output shape. */
static gboolean
einsum_setup (const KestrelNode *node, guint a_dims, const gint64 *a, guint b_dims,
              const gint64 *b, Roles *roles, guint *out_dims, gint64 *out)
{
  const char *equation = kestrel_node_attr_string (node, "equation", "");
  g_autofree char *why = NULL;
  Equation eq;

  return parse_equation (equation, a_dims, b_dims, &eq)
         && assign_roles (&eq, a, b, roles, out_dims, out, &why);
}

static gboolean
einsum_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  guint n_in = kestrel_node_n_inputs (node), out_dims;
  guint ranks[KESTREL_EINSUM_MAX_INPUTS];
  const gint64 *shapes[KESTREL_EINSUM_MAX_INPUTS];
  gint64 out[KESTREL_TENSOR_MAX_DIMS];
  const KestrelValue *first = NULL;
  Roles roles;
  KestrelEinsumAny *any;

  if (!kestrel_node_check_attr_type (node, "equation", KESTREL_ATTR_STRING, error)
      || !kestrel_op_check_arity (node, 1, KESTREL_EINSUM_MAX_INPUTS, 1, error))
    return FALSE;
  if (kestrel_node_attr_string (node, "equation", NULL) == NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT, "has no 'equation' attribute");
      return FALSE;
    }
  for (guint i = 0; i < n_in; i++)
    {
      const KestrelValue *v = kestrel_op_input (graph, node, i, error);
      if (v == NULL
          || !kestrel_op_check_dtype (node, i, v, first != NULL ? &first->dtype : einsum_dtypes,
                                      first != NULL ? 1 : G_N_ELEMENTS (einsum_dtypes), error))
        return FALSE;
      first = first != NULL ? first : v;
      ranks[i] = v->n_dims;
      shapes[i] = v->shape;
    }
  if (n_in == 2
      && einsum_setup (node, ranks[0], shapes[0], ranks[1], shapes[1], &roles, &out_dims, out))
    {
      kestrel_op_set_output (graph, node, 0, first->dtype, out_dims, out);
      return TRUE;
    }
  any = kestrel_einsum_any_new (node, n_in, ranks, shapes, &out_dims, out, error);
  if (any == NULL)
    return FALSE;
  kestrel_einsum_any_free (any);
  kestrel_op_set_output (graph, node, 0, first->dtype, out_dims, out);
  return TRUE;
}

/* Offsets of every combination of a role's letters (flat, first letter
 * slowest) in A, B and the output. */
typedef struct {
  gsize count[N_ROLES];
  gint64 *offset[N_ROLES];  /* count * 3 */
  KestrelEinsumAny *any;    /* instead, for the equations that are no matrix product */
} EinsumState;

static void
einsum_state_free (gpointer data)
{
  EinsumState *st = data;

  for (guint r = 0; r < N_ROLES; r++)
    g_free (st->offset[r]);
  kestrel_einsum_any_free (st->any);
  g_free (st);
}

static gboolean
einsum_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *a = &step->inputs[0], *b = &step->inputs[step->n_inputs > 1];
  EinsumState *st;
  Roles roles;
  guint out_dims;
  gint64 out[KESTREL_TENSOR_MAX_DIMS];

  if (step->n_inputs != 2
      || !einsum_setup (step->node, a->n_dims, a->shape, b->n_dims, b->shape, &roles, &out_dims,
                        out))
    {
      guint ranks[KESTREL_EINSUM_MAX_INPUTS];
      const gint64 *shapes[KESTREL_EINSUM_MAX_INPUTS];

      for (guint i = 0; i < step->n_inputs; i++)
        {
          ranks[i] = step->inputs[i].n_dims;
          shapes[i] = step->inputs[i].shape;
        }
      st = g_new0 (EinsumState, 1);
      st->any = kestrel_einsum_any_new (step->node, step->n_inputs, ranks, shapes, &out_dims, out,
                                        error);
      if (st->any == NULL)
        {
          einsum_state_free (st);
          return FALSE;
        }
      step->state = st;
      step->free_state = einsum_state_free;
      return TRUE;
    }
  st = g_new0 (EinsumState, 1);
  for (guint r = 0; r < N_ROLES; r++)
    {
      gsize count = (gsize) kestrel_shape_product (roles.size[r], 0, roles.n[r]);

      st->count[r] = count;
      st->offset[r] = g_new0 (gint64, MAX (count, 1) * 3);
      for (gsize f = 0; f < count; f++)
        {
          gsize rest = f;
          for (gint d = (gint) roles.n[r] - 1; d >= 0; d--)
            {
              gint64 i = (gint64) (rest % (gsize) roles.size[r][d]);
              rest /= (gsize) roles.size[r][d];
              for (guint t = 0; t < 3; t++)
                st->offset[r][f * 3 + t] += i * roles.stride[r][d][t];
            }
        }
    }
  step->state = st;
  step->free_state = einsum_state_free;
  return TRUE;
}

/* The products of (batch, row) work items, in the type T of the operands. */
#define DEFINE_EINSUM_ROWS(suffix, T)                                                \
static void                                                                          \
einsum_rows_##suffix (gsize begin, gsize end, guint worker G_GNUC_UNUSED, gpointer user_data) \
{                                                                                    \
  const KestrelStep *step = user_data;                                               \
  const EinsumState *st = step->state;                                               \
  const T *a = step->inputs[0].data, *b = step->inputs[1].data;                      \
  T *y = step->outputs[0].data;                                                      \
  const gint64 *ob = st->offset[ROLE_BATCH], *om = st->offset[ROLE_M];               \
  const gint64 *on = st->offset[ROLE_N], *ok = st->offset[ROLE_K];                   \
                                                                                     \
  /* Work items are (batch, row) pairs. */                                           \
  for (gsize item = begin; item < end; item++)                                       \
    {                                                                                \
      gsize bi = item / st->count[ROLE_M], mi = item % st->count[ROLE_M];            \
      gint64 a0 = ob[bi * 3] + om[mi * 3], b0 = ob[bi * 3 + 1];                      \
      gint64 y0 = ob[bi * 3 + 2] + om[mi * 3 + 2];                                   \
                                                                                     \
      for (gsize ni = 0; ni < st->count[ROLE_N]; ni++)                               \
        {                                                                            \
          gint64 bn = b0 + on[ni * 3 + 1];                                           \
          T acc = 0;                                                                 \
                                                                                     \
          for (gsize ki = 0; ki < st->count[ROLE_K]; ki++)                           \
            acc += a[a0 + ok[ki * 3]] * b[bn + ok[ki * 3 + 1]];                      \
          y[y0 + on[ni * 3 + 2]] = acc;                                              \
        }                                                                            \
    }                                                                                \
}

DEFINE_EINSUM_ROWS (f32, float)
DEFINE_EINSUM_ROWS (f64, double)

static void
einsum_run (const KestrelStep *step)
{
  const EinsumState *st = step->state;

  if (st->any != NULL)
    {
      kestrel_einsum_any_run (st->any, step);
      return;
    }
  kestrel_step_parallel_for (step, st->count[ROLE_BATCH] * st->count[ROLE_M],
                             step->inputs[0].dtype == KESTREL_DTYPE_FLOAT64 ? einsum_rows_f64
                                                                            : einsum_rows_f32,
                             (gpointer) step);
}

const KestrelOpDef kestrel_op_einsum = {
  .domain = "",
  .op_type = "Einsum",
  .min_opset = 12,
  .max_opset = 21,
  .infer = einsum_infer,
  .prepare = einsum_prepare,
  .run = einsum_run,
};
