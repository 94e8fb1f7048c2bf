/* kestrel-event-log.h — the window's event log: every engine event (and a
 * failed start), with its details, kept after its toast is gone.
 *
 * The log fills a GtkListBox, newest first, one AdwActionRow per entry:
 * the event in plain words as the title, and its time and the engine's own
 * message as the subtitle. An event equal to the newest entry (same kind,
 * same message) is counted there ("4 times, last at 10:42:07") rather than
 * added again, so a source that fails on every frame is one row. At most
 * KESTREL_EVENT_LOG_MAX entries are kept (the oldest go first): a Kestrel
 * left running for days must not grow.
 */
#pragma once

#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "kestrel-engine.h"

G_BEGIN_DECLS

#define KESTREL_EVENT_LOG_MAX 200

typedef struct _KestrelEventLog KestrelEventLog;

/* @list gets the rows; @empty (shown while there are none) and @filled
 * (shown once there is one) are toggled. None is owned. */
KestrelEventLog *kestrel_event_log_new       (GtkListBox             *list,
                                              GtkWidget              *empty,
                                              GtkWidget              *filled);
void             kestrel_event_log_free      (KestrelEventLog        *log);

void             kestrel_event_log_add       (KestrelEventLog        *log,
                                              KestrelEngineEventKind  kind,
                                              const char             *title,
                                              const char             *message);
guint            kestrel_event_log_get_n_entries (KestrelEventLog    *log);
/* Every event counted, including those folded into an entry. */
guint            kestrel_event_log_get_n_events  (KestrelEventLog    *log);
/* The entries, oldest first, as a JSON array of {kind, title, message,
 * count}. */
JsonNode        *kestrel_event_log_to_json   (KestrelEventLog        *log);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelEventLog, kestrel_event_log_free)

G_END_DECLS
