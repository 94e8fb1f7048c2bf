/* cli-options.c — one way for every kestrel-cli command to read and check
 * its options.
 *
 * GOption alone accepts any int or double: `--threads 9999` reached the
 * thread pool and failed there with a GLib-CRITICAL and exit status 0. So
 * each numeric entry is given a range beside it, and the value is checked
 * while it is parsed (the entry is turned into a callback), which also
 * means a default needs no "not given" sentinel: an option left out is
 * never checked. Messages name the option and the allowed values; every
 * failure here is exit status 2.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kestrel-cli.h"
#include "kestrel-file.h"

typedef struct {
  const KestrelCliRange *ranges;
  GOptionEntry *entries;     /* the rewritten copy */
  const GOptionEntry *originals;
  guint n_entries;
} ParseData;

static const KestrelCliRange *
find_range (const KestrelCliRange *ranges, const char *name)
{
  for (const KestrelCliRange *r = ranges; r != NULL && r->name != NULL; r++)
    if (strcmp (r->name, name) == 0)
      return r;
  return NULL;
}

/* "-t" or "--threads" back to its entry. */
static const GOptionEntry *
find_original (const ParseData *data, const char *option_name)
{
  for (guint i = 0; i < data->n_entries; i++)
    {
      const GOptionEntry *e = &data->originals[i];

      if (g_str_has_prefix (option_name, "--") && strcmp (option_name + 2, e->long_name) == 0)
        return e;
      if (option_name[0] == '-' && option_name[1] == e->short_name && option_name[2] == '\0'
          && e->short_name != 0)
        return e;
    }
  return NULL;
}

static char *
format_bound (double v, gboolean integer)
{
  if (integer)
    return g_strdup_printf ("%.0f", v);
  return g_strdup_printf ("%.10g", v);
}

char *
kestrel_cli_range_describe (const KestrelCliRange *range, gboolean integer)
{
  g_autofree char *lo = format_bound (range->min, integer);
  g_autofree char *hi = format_bound (range->max, integer);
  GString *text = g_string_new (integer ? "an integer " : "a number ");

  if (range->min_exclusive)
    g_string_append_printf (text, "above %s and at most %s", lo, hi);
  else
    g_string_append_printf (text, "from %s to %s", lo, hi);
  if (range->note != NULL)
    g_string_append_printf (text, " (%s)", range->note);
  return g_string_free (text, FALSE);
}

static gboolean
parse_number (const char *option_name,
              const char *value,
              gpointer    user_data,
              GError    **error)
{
  ParseData *data = user_data;
  const GOptionEntry *original = find_original (data, option_name);
  const KestrelCliRange *range;
  gboolean integer;
  double number;
  char *end = NULL;

  g_assert (original != NULL);
  range = find_range (data->ranges, original->long_name);
  integer = original->arg == G_OPTION_ARG_INT;

  errno = 0;
  number = g_ascii_strtod (value, &end);
  if (value[0] == '\0' || end == NULL || *end != '\0' || errno == ERANGE || !isfinite (number)
      || (integer && number != floor (number))
      || (range->min_exclusive ? number <= range->min : number < range->min)
      || number > range->max)
    {
      g_autofree char *allowed = kestrel_cli_range_describe (range, integer);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--%s must be %s, not '%s'", original->long_name, allowed, value);
      return FALSE;
    }

  if (integer)
    *(int *) original->arg_data = (int) number;
  else
    *(double *) original->arg_data = number;
  return TRUE;
}

gboolean
kestrel_cli_parse_options (const char            *command,
                           GOptionContext        *context,
                           const GOptionEntry    *entries,
                           const KestrelCliRange *ranges,
                           const char            *args_name,
                           guint                  min_args,
                           guint                  max_args,
                           int                   *argc,
                           char                ***argv)
{
  g_autoptr(GError) error = NULL;
  ParseData data = { .ranges = ranges, .originals = entries };
  GOptionGroup *group;

  while (entries[data.n_entries].long_name != NULL)
    data.n_entries++;
  data.entries = g_new0 (GOptionEntry, data.n_entries + 1);
  for (guint i = 0; i < data.n_entries; i++)
    {
      data.entries[i] = entries[i];
      if (entries[i].arg != G_OPTION_ARG_INT && entries[i].arg != G_OPTION_ARG_DOUBLE)
        continue;
      /* A number without a range is a mistake in the command, not in
       * what the user typed. */
      if (find_range (ranges, entries[i].long_name) == NULL)
        g_error ("kestrel-cli %s: --%s has no range", command, entries[i].long_name);
      data.entries[i].arg = G_OPTION_ARG_CALLBACK;
      data.entries[i].arg_data = (gpointer) parse_number;
    }

  group = g_option_group_new (NULL, NULL, NULL, &data, NULL);
  g_option_group_add_entries (group, data.entries);
  g_option_context_set_main_group (context, group);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_free (data.entries);
      kestrel_cli_fail (command, error->message, 2);
      return FALSE;
    }
  g_free (data.entries);

  /* argv[0] is the command itself. */
  if ((guint) *argc - 1 < min_args || (guint) *argc - 1 > max_args)
    {
      g_autofree char *message = NULL;

      if ((guint) *argc - 1 > max_args)
        message = g_strdup_printf ("unexpected argument '%s' (see --help)", (*argv)[1 + max_args]);
      else
        message = g_strdup_printf ("expected %s (see --help)", args_name);
      kestrel_cli_fail (command, message, 2);
      return FALSE;
    }
  return TRUE;
}

gboolean
kestrel_cli_check_output_file (const char  *option,
                               const char  *path,
                               GError     **error)
{
  if (path == NULL || kestrel_file_check_writable (path, error))
    return TRUE;
  g_prefix_error (error, "--%s: ", option);
  return FALSE;
}
