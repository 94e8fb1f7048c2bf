/* kestrel-application.h — the `kestrel` application (AdwApplication,
 * id org.kestrel.Kestrel): command line, actions, the About window, and the
 * scripted run (--run-for, --state-file) that tests use.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KESTREL_APPLICATION_ID "org.kestrel.Kestrel"

#define KESTREL_TYPE_APPLICATION (kestrel_application_get_type ())

G_DECLARE_FINAL_TYPE (KestrelApplication, kestrel_application, KESTREL, APPLICATION, AdwApplication)

KestrelApplication *kestrel_application_new             (void);
/* What main() returns when g_application_run() itself succeeded: non-zero
 * when a scripted run could not start its pipeline or write its report. */
int                 kestrel_application_get_exit_status (KestrelApplication *self);

G_END_DECLS
