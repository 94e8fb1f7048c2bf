/* kestrel — the GTK application. Everything but gettext and the locale is
 * in ui/kestrel-application.c. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "kestrel-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(KestrelApplication) app = NULL;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = kestrel_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);
  if (status == 0)
    status = kestrel_application_get_exit_status (app);
  return status;
}
