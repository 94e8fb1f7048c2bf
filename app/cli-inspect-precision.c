/* cli-inspect-precision.c — `kestrel-cli inspect MODEL --precision int8`:
 * the plan at that precision layer by layer (which layers are INT8, which
 * stayed FP32, each output's error against FP32 on the calibration frames,
 * the weight bytes), as the "precision" member of inspect's JSON and as a
 * table for people. */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "kestrel-cli.h"

static void
add_db (JsonBuilder *b, const char *member, double db)
{
  /* +inf (exact) has no JSON number: null, which the text prints "exact". */
  kestrel_cli_json_add_double (b, member, db);
}

gboolean
kestrel_cli_inspect_add_precision (JsonBuilder *b, KestrelModel *model, KestrelPrecision precision,
                                   GError **error)
{
  KestrelPlanOptions options, fp32_options;
  g_autoptr(KestrelQuantTable) table = NULL;
  g_autoptr(KestrelPlan) plan = NULL;
  g_autoptr(KestrelPlan) fp32 = NULL;
  KestrelMixedSummary mixed;

  kestrel_plan_options_init (&options);
  options.n_threads = 1;
  if (!kestrel_cli_set_precision (&options, precision, model, &table, error))
    return FALSE;
  plan = kestrel_plan_new (model, &options, error);
  if (plan == NULL)
    return FALSE;
  kestrel_plan_options_init (&fp32_options);
  fp32_options.n_threads = 1;
  fp32 = kestrel_plan_new (model, &fp32_options, error);
  if (fp32 == NULL)
    return FALSE;

  json_builder_set_member_name (b, "precision");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "precision");
  json_builder_add_string_value (b, kestrel_precision_name (precision));
  json_builder_set_member_name (b, "level");
  json_builder_add_string_value (b, kk_level_name (options.level));
  json_builder_set_member_name (b, "weight_bytes");
  json_builder_add_int_value (b, kestrel_plan_get_weight_bytes (plan));
  json_builder_set_member_name (b, "fp32_weight_bytes");
  json_builder_add_int_value (b, kestrel_plan_get_weight_bytes (fp32));
  if (table != NULL)
    {
      const char *const *layers = kestrel_quant_table_get_fp32_layers (table);

      json_builder_set_member_name (b, "calibration");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "method");
      json_builder_add_string_value (b, kestrel_quant_table_get_method (table));
      json_builder_set_member_name (b, "frames");
      json_builder_add_int_value (b, kestrel_quant_table_get_n_frames (table));
      if (kestrel_quant_table_get_mixed (table, &mixed))
        {
          add_db (b, "goal_output_sqnr_db", mixed.goal_db);
          add_db (b, "output_sqnr_db", mixed.output_sqnr_db);
          add_db (b, "all_int8_output_sqnr_db", mixed.all_int8_sqnr_db);
          json_builder_set_member_name (b, "candidates");
          json_builder_add_int_value (b, mixed.n_candidates);
        }
      json_builder_set_member_name (b, "fp32_layers");
      json_builder_begin_array (b);
      for (guint i = 0; layers[i] != NULL; i++)
        json_builder_add_string_value (b, layers[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (guint s = 0; s < kestrel_plan_get_n_steps (plan); s++)
    {
      const KestrelStep *step = kestrel_plan_get_step (plan, s);
      double mse, db, sensitivity;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "layer");
      json_builder_add_string_value (b, step->node->name);
      json_builder_set_member_name (b, "op");
      json_builder_add_string_value (b, step->node->op_type);
      json_builder_set_member_name (b, "precision");
      json_builder_add_string_value (b, kestrel_precision_name (kestrel_plan_get_step_precision (plan, s)));
      if (kestrel_plan_get_step_error (plan, s, &mse, &db))
        {
          add_db (b, "sqnr_db", db);
          kestrel_cli_json_add_double (b, "mse", mse);
        }
      if (table != NULL && kestrel_quant_table_lookup_sensitivity (table, step->node->name, &sensitivity))
        add_db (b, "sensitivity_db", sensitivity);
      json_builder_set_member_name (b, "weight_bytes");
      json_builder_add_int_value (b, kestrel_plan_get_step_weight_bytes (plan, s));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return TRUE;
}

/* A dB member as text: "exact" for null (an exact result), "-" when absent. */
static void
format_db (JsonObject *o, const char *member, char *buf, gsize size)
{
  JsonNode *node = json_object_get_member (o, member);

  if (node == NULL)
    g_strlcpy (buf, "-", size);
  else if (JSON_NODE_HOLDS_NULL (node))
    g_strlcpy (buf, "exact", size);
  else
    g_snprintf (buf, size, "%.1f", json_node_get_double (node));
}

void
kestrel_cli_inspect_print_precision (JsonObject *o)
{
  JsonArray *layers = json_object_get_array_member (o, "layers");
  gint64 bytes = json_object_get_int_member (o, "weight_bytes");
  gint64 fp32_bytes = json_object_get_int_member (o, "fp32_weight_bytes");

  printf ("\nPlan at %s (level %s), layer by layer; SQNR and MSE against FP32 on the calibration frames:\n",
          json_object_get_string_member (o, "precision"), json_object_get_string_member (o, "level"));
  printf ("  %-56s %-14s %-5s %8s %11s %10s\n", "layer", "op", "prec", "SQNR dB", "MSE", "weights B");
  for (guint i = 0; i < json_array_get_length (layers); i++)
    {
      JsonObject *l = json_array_get_object_element (layers, i);
      char db[32], mse[32];

      format_db (l, "sqnr_db", db, sizeof db);
      if (json_object_has_member (l, "mse"))
        g_snprintf (mse, sizeof mse, "%.3g", json_object_get_double_member (l, "mse"));
      else
        g_strlcpy (mse, "-", sizeof mse);
      printf ("  %-56s %-14s %-5s %8s %11s %10" G_GINT64_FORMAT "\n", json_object_get_string_member (l, "layer"),
              json_object_get_string_member (l, "op"), json_object_get_string_member (l, "precision"), db, mse,
              json_object_get_int_member (l, "weight_bytes"));
    }
  printf ("  weight bytes %" G_GINT64_FORMAT ", FP32 %" G_GINT64_FORMAT " (%.3fx)\n", bytes, fp32_bytes,
          fp32_bytes > 0 ? (double) bytes / (double) fp32_bytes : 0.0);
  if (json_object_has_member (o, "calibration"))
    {
      JsonObject *c = json_object_get_object_member (o, "calibration");
      JsonArray *fp32 = json_object_get_array_member (c, "fp32_layers");
      char goal[32], got[32], all[32];

      printf ("  calibration: %s over %" G_GINT64_FORMAT " frames\n", json_object_get_string_member (c, "method"),
              json_object_get_int_member (c, "frames"));
      if (json_object_has_member (c, "goal_output_sqnr_db"))
        {
          format_db (c, "goal_output_sqnr_db", goal, sizeof goal);
          format_db (c, "output_sqnr_db", got, sizeof got);
          format_db (c, "all_int8_output_sqnr_db", all, sizeof all);
          printf ("  worst output SQNR %s dB (goal %s dB; every layer INT8: %s dB); %u of %" G_GINT64_FORMAT
                  " convolutions kept FP32%s\n", got, goal, all, json_array_get_length (fp32),
                  json_object_get_int_member (c, "candidates"), json_array_get_length (fp32) > 0 ? ":" : "");
        }
      for (guint i = 0; i < json_array_get_length (fp32); i++)
        printf ("    %s\n", json_array_get_string_element (fp32, i));
    }
}
