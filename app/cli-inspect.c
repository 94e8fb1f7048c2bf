/* kestrel-cli inspect — what a model is made of and what Kestrel makes of it:
 * operators (and which are unsupported), parameters, multiply-adds, and the
 * arena each optimisation level needs; with --precision, the plan at that
 * precision layer by layer (cli-inspect-precision.c); and the weight bytes,
 * arena and per-step precision of the plans at each precision that needs
 * no calibration (FP32, FP16).
 *
 * Exit status 1 when the model cannot be planned at some level (an
 * operator Kestrel lacks, a free input size without --input-shape, a plan
 * that fails): the description is still printed, so a script learns both
 * what is wrong and that something is. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kestrel-cli.h"
#include "kestrel-passes.h"
#include "kestrel-input-shape.h"
#include "kestrel-onnx.h"
#include "kestrel-op.h"
#include "kestrel-plan.h"

typedef struct {
  const char *op_type;
  const char *domain;
  guint count;
} OpCount;

/* The same report as the JSON, for people. */
/* Weight and arena bytes of the full-level, one-thread plan at each
 * precision that plans without calibration, and how many steps compute at
 * each precision (an FP16 plan keeps depthwise layers FP32). */
static void
add_precisions (JsonBuilder *b, KestrelModel *model)
{
  static const KestrelPrecision precisions[] = { KESTREL_PRECISION_FP32, KESTREL_PRECISION_FP16 };

  json_builder_set_member_name (b, "precisions");
  json_builder_begin_object (b);
  for (guint i = 0; i < G_N_ELEMENTS (precisions); i++)
    {
      KestrelPlanOptions options;
      g_autoptr(KestrelPlan) plan = NULL;
      g_autoptr(GError) error = NULL;
      guint per_precision[KESTREL_PRECISION_INT4 + 1] = { 0 };

      if (!kestrel_precision_is_supported (precisions[i]))
        continue;
      kestrel_plan_options_init (&options);
      options.n_threads = 1;
      options.precision = precisions[i];
      plan = kestrel_plan_new (model, &options, &error);
      json_builder_set_member_name (b, kestrel_precision_name (precisions[i]));
      json_builder_begin_object (b);
      if (plan == NULL)
        {
          json_builder_set_member_name (b, "error");
          json_builder_add_string_value (b, error->message);
          json_builder_end_object (b);
          continue;
        }
      json_builder_set_member_name (b, "weight_bytes");
      json_builder_add_int_value (b, kestrel_plan_get_weight_bytes (plan));
      json_builder_set_member_name (b, "arena_bytes");
      json_builder_add_int_value (b, kestrel_plan_get_arena_bytes (plan));
      for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
        per_precision[kestrel_plan_get_step_precision (plan, s)]++;
      json_builder_set_member_name (b, "steps");
      json_builder_begin_object (b);
      for (guint p = 0; p < G_N_ELEMENTS (per_precision); p++)
        if (per_precision[p] > 0)
          {
            json_builder_set_member_name (b, kestrel_precision_name (p));
            json_builder_add_int_value (b, per_precision[p]);
          }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
}

static void
print_precisions (JsonObject *o)
{
  JsonObject *precisions = json_object_get_object_member (o, "precisions");
  g_autoptr(GList) names = json_object_get_members (precisions);

  printf ("\nPlan per precision (level full, one thread):   weights       arena   steps\n");
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonObject *p = json_object_get_object_member (precisions, l->data);
      if (json_object_has_member (p, "error"))
        {
          printf ("  %-42s %s\n", (const char *) l->data, json_object_get_string_member (p, "error"));
          continue;
        }
      JsonObject *steps = json_object_get_object_member (p, "steps");
      g_autoptr(GList) kinds = json_object_get_members (steps);
      g_autoptr(GString) split = g_string_new (NULL);
      for (GList *k = kinds; k != NULL; k = k->next)
        g_string_append_printf (split, "%s%" G_GINT64_FORMAT " %s", split->len > 0 ? ", " : "",
                                json_object_get_int_member (steps, k->data), (const char *) k->data);
      printf ("  %-42s %8.3f MB %8.2f MB   %s\n", (const char *) l->data,
              json_object_get_int_member (p, "weight_bytes") / 1e6,
              json_object_get_int_member (p, "arena_bytes") / 1e6, split->str);
    }
}

static void
print_text (JsonObject *o)
{
  JsonArray *ops = json_object_get_array_member (o, "ops");
  JsonArray *inputs = json_object_get_array_member (o, "inputs");

  printf ("%s\n", json_object_get_string_member (o, "model"));
  printf ("  opset %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT " nodes, %" G_GINT64_FORMAT
          " parameters\n", json_object_get_int_member (o, "opset"),
          json_object_get_int_member (o, "nodes"), json_object_get_int_member (o, "parameters"));
  if (json_object_get_boolean_member_with_default (o, "qdq", FALSE))
    printf ("  quantised (QDQ): INT8 plans take the file's scales; nodes and operators without its "
            "QuantizeLinear / DequantizeLinear pairs\n");
  for (guint i = 0; i < json_array_get_length (inputs); i++)
    printf ("  input %s\n", json_array_get_string_element (inputs, i));
  if (json_object_has_member (o, "multiply_adds"))
    printf ("  %.1f M multiply-adds per inference, %.2f MB of weights\n",
            json_object_get_int_member (o, "multiply_adds") / 1e6,
            json_object_get_int_member (o, "weight_bytes") / 1e6);

  printf ("\nOperators:\n");
  for (guint i = 0; i < json_array_get_length (ops); i++)
    {
      JsonObject *op = json_array_get_object_element (ops, i);

      printf ("  %-24s %5" G_GINT64_FORMAT "%s\n", json_object_get_string_member (op, "op"),
              json_object_get_int_member (op, "count"),
              json_object_get_boolean_member (op, "supported") ? "" : "  not supported by Kestrel");
    }

  if (json_object_has_member (o, "error"))
    printf ("\nCannot be planned: %s\n", json_object_get_string_member (o, "error"));
  if (json_object_has_member (o, "levels"))
    {
      JsonObject *levels = json_object_get_object_member (o, "levels");

      printf ("\nPlan per level (one thread):  steps       arena\n");
      for (int level = 0; level < KK_LEVEL_COUNT; level++)
        {
          JsonObject *l = json_object_get_object_member (levels, kk_level_name (level));

          if (json_object_has_member (l, "error"))
            printf ("  %-28s %s\n", kk_level_name (level), json_object_get_string_member (l, "error"));
          else
            printf ("  %-28s %5" G_GINT64_FORMAT " %8.2f MB\n", kk_level_name (level),
                    json_object_get_int_member (l, "steps"),
                    json_object_get_int_member (l, "arena_bytes") / 1e6);
        }
    }
  if (json_object_has_member (o, "precision"))
    kestrel_cli_inspect_print_precision (json_object_get_object_member (o, "precision"));
  if (json_object_has_member (o, "precision_error"))
    printf ("\nCannot be planned at that precision: %s\n", json_object_get_string_member (o, "precision_error"));
  if (json_object_has_member (o, "precisions"))
    print_precisions (o);
}

int
kestrel_cli_inspect (int argc, char **argv)
{
  gboolean json = FALSE;
  g_auto(GStrv) input_shapes = NULL;
  g_autofree char *precision_name = NULL;
  KestrelPrecision precision = KESTREL_PRECISION_FP32;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { "input-shape", 0, 0, G_OPTION_ARG_STRING_ARRAY, &input_shapes, KESTREL_CLI_INPUT_SHAPE_HELP, "NAME=SHAPE" },
    { "precision", 'p', 0, G_OPTION_ARG_STRING, &precision_name,
      "Also show the plan at this precision layer by layer (fp32, fp16, int8 or int4; int8 and int4 calibrated on the bundled photos)", "PRECISION" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("MODEL - describe a model (front, back or FILE.onnx)");
  g_autoptr(GError) error = NULL;
  g_autofree char *origin = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GArray) ops = g_array_new (FALSE, TRUE, sizeof (OpCount));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  KestrelGraph *graph;
  guint64 params = 0;
  guint n_unsupported = 0;
  gboolean plannable = FALSE;
  gboolean qdq = FALSE;

  if (!kestrel_cli_parse_options ("inspect", context, entries, NULL, "one MODEL", 1, 1, &argc, &argv))
    return 2;
  if (!kestrel_cli_check_input_shapes (input_shapes, &error))
    return kestrel_cli_fail ("inspect", error->message, 2);
  if (!kestrel_cli_parse_precision (precision_name, &precision, &error))
    return kestrel_cli_fail ("inspect", error->message, 2);

  bytes = kestrel_model_spec_dup_bytes (argv[1], &origin, &error);
  if (bytes == NULL)
    return kestrel_cli_fail ("inspect", error->message, 1);
  graph = kestrel_onnx_load_graph (bytes, origin, &error);
  if (graph == NULL)
    return kestrel_cli_fail ("inspect", error->message, 1);
  /* A QDQ file: the operators listed are the ones Kestrel runs, its
   * QuantizeLinear / DequantizeLinear pairs taken out as loading does
   * (their scales are the INT8 plans' table). */
  {
    KestrelQdqTaken *taken = NULL;
    if (!kestrel_graph_take_qdq (graph, &taken, &error))
      {
        kestrel_graph_free (graph);
        return kestrel_cli_fail ("inspect", error->message, 1);
      }
    qdq = taken != NULL;
    kestrel_qdq_taken_free (taken);
  }

  for (guint n = 0; n < graph->nodes->len; n++)
    {
      const KestrelNode *node = kestrel_graph_node (graph, n);
      guint i;
      for (i = 0; i < ops->len; i++)
        if (strcmp (g_array_index (ops, OpCount, i).op_type, node->op_type) == 0
            && strcmp (g_array_index (ops, OpCount, i).domain, node->domain) == 0)
          break;
      if (i == ops->len)
        {
          OpCount c = { node->op_type, node->domain, 0 };
          g_array_append_val (ops, c);
        }
      g_array_index (ops, OpCount, i).count++;
    }
  for (guint v = 0; v < graph->values->len; v++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, v);
      if (value->constant != NULL && value->dtype == KESTREL_DTYPE_FLOAT32)
        params += kestrel_tensor_get_n_elements (value->constant);
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, origin);
  json_builder_set_member_name (b, "opset");
  json_builder_add_int_value (b, graph->opset);
  json_builder_set_member_name (b, "nodes");
  json_builder_add_int_value (b, graph->nodes->len);
  json_builder_set_member_name (b, "qdq");
  json_builder_add_boolean_value (b, qdq);
  json_builder_set_member_name (b, "parameters");
  json_builder_add_int_value (b, params);
  json_builder_set_member_name (b, "ops");
  json_builder_begin_array (b);
  for (guint i = 0; i < ops->len; i++)
    {
      const OpCount *c = &g_array_index (ops, OpCount, i);
      gboolean supported = kestrel_op_lookup (c->domain, c->op_type, graph->opset) != NULL;
      n_unsupported += !supported;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "op");
      json_builder_add_string_value (b, c->op_type);
      json_builder_set_member_name (b, "count");
      json_builder_add_int_value (b, c->count);
      json_builder_set_member_name (b, "supported");
      json_builder_add_boolean_value (b, supported);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "inputs");
  json_builder_begin_array (b);
  for (guint i = 0; i < graph->inputs->len; i++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i));
      /* As the file has it: a free dimension is '?'. */
      g_autofree char *shape = kestrel_value_describe_input_shape (value);
      g_autofree char *text = g_strdup_printf ("%s: %s %s", value->name,
                                               kestrel_dtype_get_name (value->dtype), shape);
      json_builder_add_string_value (b, text);
    }
  json_builder_end_array (b);

  if (n_unsupported == 0)
    {
      g_autoptr(KestrelModel) model = kestrel_model_new_from_bytes_at (bytes, origin,
                                                                        (const char *const *) input_shapes,
                                                                        &error);
      if (model == NULL)
        {
          json_builder_set_member_name (b, "error");
          json_builder_add_string_value (b, error->message);
        }
      else
        {
          plannable = TRUE;
          json_builder_set_member_name (b, "multiply_adds");
          json_builder_add_int_value (b, kestrel_model_get_macs (model));
          json_builder_set_member_name (b, "flops");
          json_builder_add_int_value (b, 2 * kestrel_model_get_macs (model));
          json_builder_set_member_name (b, "weight_bytes");
          json_builder_add_int_value (b, kestrel_model_get_weight_bytes (model));
          json_builder_set_member_name (b, "levels");
          json_builder_begin_object (b);
          for (int level = 0; level < KK_LEVEL_COUNT; level++)
            {
              KestrelPlanOptions options;
              g_autoptr(KestrelPlan) plan = NULL;
              g_autoptr(GError) plan_error = NULL;

              kestrel_plan_options_init (&options);
              options.level = level;
              options.n_threads = 1;
              plan = kestrel_plan_new (model, &options, &plan_error);
              json_builder_set_member_name (b, kk_level_name (level));
              json_builder_begin_object (b);
              if (plan == NULL)
                {
                  plannable = FALSE;
                  json_builder_set_member_name (b, "error");
                  json_builder_add_string_value (b, plan_error->message);
                }
              else
                {
                  json_builder_set_member_name (b, "steps");
                  json_builder_add_int_value (b, kestrel_plan_get_n_steps (plan));
                  json_builder_set_member_name (b, "arena_bytes");
                  json_builder_add_int_value (b, kestrel_plan_get_arena_bytes (plan));
                }
              json_builder_end_object (b);
            }
          json_builder_end_object (b);
          if (plannable && precision_name != NULL && !kestrel_cli_inspect_add_precision (b, model, precision, &error))
            {
              plannable = FALSE;
              json_builder_set_member_name (b, "precision_error");
              json_builder_add_string_value (b, error->message);
            }
          add_precisions (b, model);
        }
    }
  json_builder_end_object (b);
  kestrel_graph_free (graph);

  g_autoptr(JsonNode) root = json_builder_get_root (b);
  if (json)
    kestrel_cli_print_json (root, FALSE);
  else
    print_text (json_node_get_object (root));
  return n_unsupported == 0 && plannable ? 0 : 1;
}
