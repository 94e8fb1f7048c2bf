/* kestrel-json.c — see kestrel-json.h for json-glib's exponent defect. */
#include "kestrel-json.h"

#include <math.h>
#include <string.h>

void
kestrel_json_add_double (JsonBuilder *builder, double value)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_dtostr (text, sizeof text, value);
  /* No '.' but an exponent: json-glib would append ".0" after it. The
   * neighbour towards zero needs all 17 digits, so its text has a '.'. */
  if (isfinite (value) && strchr (text, '.') == NULL && strpbrk (text, "eE") != NULL)
    value = nextafter (value, 0.0);
  json_builder_add_double_value (builder, value);
}
