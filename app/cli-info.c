/* kestrel-cli info — what Kestrel found on this machine. */
#include "config.h"

#include <stdio.h>

#include "kestrel-blas.h"
#include "kestrel-cli.h"
#include "kestrel-kernels.h"

static JsonNode *
build_info (void)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GError) blas_error = NULL;
  const kk_cpu_features *f = kk_cpu_features_get ();
  const char *names[64];
  size_t n_names = kk_cpu_feature_names (names, G_N_ELEMENTS (names));
  gboolean blas_ok = kestrel_blas_init (&blas_error);

  json_builder_begin_object (b);

  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, PACKAGE_VERSION);

  json_builder_set_member_name (b, "cpu");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "vendor");
  json_builder_add_string_value (b, f->vendor);
  json_builder_set_member_name (b, "brand");
  json_builder_add_string_value (b, f->brand);
  json_builder_set_member_name (b, "family");
  json_builder_add_int_value (b, f->family);
  json_builder_set_member_name (b, "model");
  json_builder_add_int_value (b, f->model);
  json_builder_set_member_name (b, "cores");
  json_builder_add_int_value (b, g_get_num_processors ());
  json_builder_set_member_name (b, "features");
  json_builder_begin_array (b);
  for (size_t i = 0; i < MIN (n_names, G_N_ELEMENTS (names)); i++)
    json_builder_add_string_value (b, names[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "isa");
  json_builder_begin_object (b);
  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    {
      json_builder_set_member_name (b, kk_level_name (level));
      json_builder_add_string_value (b, kk_isa_name (kk_level_isa (level)));
    }
  json_builder_set_member_name (b, "supported");
  json_builder_begin_array (b);
  for (int isa = 0; isa < KK_ISA_COUNT; isa++)
    if (kk_isa_hw_supported (isa))
      json_builder_add_string_value (b, kk_isa_name (isa));
  json_builder_end_array (b);
  /* Within one instruction set the dot-product extension (VNNI, asimddp)
   * picks the int8 gemm: which one the SIMD levels run. */
  json_builder_set_member_name (b, "int8_gemm");
  json_builder_add_string_value (b, kk_kernels_get (kk_isa_best ())->qgemm_version);
  if (kk_isa_override_error () != NULL)
    {
      json_builder_set_member_name (b, "override_error");
      json_builder_add_string_value (b, kk_isa_override_error ());
    }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "openblas");
  json_builder_begin_object (b);
  if (blas_ok)
    {
      json_builder_set_member_name (b, "core");
      json_builder_add_string_value (b, kestrel_blas_core ());
      json_builder_set_member_name (b, "core_requested");
      if (kestrel_blas_core_requested () != NULL)
        json_builder_add_string_value (b, kestrel_blas_core_requested ());
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "core_reason");
      json_builder_add_string_value (b, kestrel_blas_core_reason ());
      json_builder_set_member_name (b, "threads");
      json_builder_add_int_value (b, kestrel_blas_get_threads ());
      json_builder_set_member_name (b, "config");
      json_builder_add_string_value (b, kestrel_blas_config ());
      json_builder_set_member_name (b, "library");
      json_builder_add_string_value (b, kestrel_blas_library_path ());
    }
  else
    {
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, blas_error->message);
    }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "threads");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "default");
  json_builder_add_int_value (b, g_get_num_processors ());
  json_builder_end_object (b);

  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
print_text (JsonObject *info)
{
  JsonObject *cpu = json_object_get_object_member (info, "cpu");
  JsonObject *isa = json_object_get_object_member (info, "isa");
  JsonObject *blas = json_object_get_object_member (info, "openblas");
  JsonArray *features = json_object_get_array_member (cpu, "features");

  printf ("Kestrel %s\n\n", json_object_get_string_member (info, "version"));
  printf ("CPU:       %s (%s, family %" G_GINT64_FORMAT ", model %" G_GINT64_FORMAT "), %" G_GINT64_FORMAT " cores\n",
          json_object_get_string_member (cpu, "brand"),
          json_object_get_string_member (cpu, "vendor"),
          json_object_get_int_member (cpu, "family"),
          json_object_get_int_member (cpu, "model"),
          json_object_get_int_member (cpu, "cores"));
  printf ("Features: ");
  for (guint i = 0; i < json_array_get_length (features); i++)
    printf (" %s", json_array_get_string_element (features, i));
  printf ("\n\nInstruction set per optimisation level:\n");
  for (int level = 0; level < KK_LEVEL_COUNT; level++)
    printf ("  %-9s %s\n", kk_level_name (level),
            json_object_get_string_member (isa, kk_level_name (level)));
  printf ("  int8 gemm %s\n", json_object_get_string_member (isa, "int8_gemm"));
  if (json_object_has_member (isa, "override_error"))
    printf ("  warning: %s\n", json_object_get_string_member (isa, "override_error"));

  printf ("\nOpenBLAS:\n");
  if (json_object_has_member (blas, "error"))
    printf ("  not available: %s\n", json_object_get_string_member (blas, "error"));
  else
    {
      printf ("  core      %s (%s)\n", json_object_get_string_member (blas, "core"),
              json_object_get_string_member (blas, "core_reason"));
      printf ("  threads   %" G_GINT64_FORMAT "\n", json_object_get_int_member (blas, "threads"));
      printf ("  config    %s\n", json_object_get_string_member (blas, "config"));
      printf ("  library   %s\n", json_object_get_string_member (blas, "library"));
    }
  printf ("\nDefault threads: %" G_GINT64_FORMAT "\n",
          json_object_get_int_member (json_object_get_object_member (info, "threads"), "default"));
}

int
kestrel_cli_info (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- describe this machine as Kestrel sees it");

  if (!kestrel_cli_parse_options ("info", context, entries, NULL, NULL, 0, 0, &argc, &argv))
    return 2;

  g_autoptr(JsonNode) root = build_info ();
  if (json)
    kestrel_cli_print_json (root, FALSE);
  else
    print_text (json_node_get_object (root));
  return 0;
}
