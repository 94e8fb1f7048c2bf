/* kestrel-json.h — writing numbers with json-glib so that they read back.
 *
 * json-glib (1.6, Debian 12) prints a double with "%.17g" and appends ".0"
 * when the text has no '.', even after an exponent: 1e308 comes out as
 * "1e+308.0", which is not JSON, so a file Kestrel wrote would not load
 * again. Every JSON file Kestrel writes adds its doubles through this.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Adds @value (finite) as a JSON number that json-glib parses back. A value
 * whose shortest text is one digit and an exponent ("1e+308") is written as
 * the next double towards zero, one unit in the last place away. */
void kestrel_json_add_double (JsonBuilder *builder, double value);

G_END_DECLS
