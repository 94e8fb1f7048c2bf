/* kestrel-event-log.c — see kestrel-event-log.h. */
#include "config.h"

#include <glib/gi18n.h>

#include "kestrel-event-log.h"

typedef struct {
  KestrelEngineEventKind kind;
  char *title;
  char *message;
  guint count;
  GDateTime *last;
  GtkWidget *row;          /* in the list box, which owns it */
} Entry;

struct _KestrelEventLog
{
  GtkListBox *list;
  GtkWidget *empty;
  GtkWidget *filled;
  GQueue entries;          /* Entry, oldest first */
  guint n_events;
};

static void
entry_free (Entry *entry)
{
  g_free (entry->title);
  g_free (entry->message);
  g_clear_pointer (&entry->last, g_date_time_unref);
  g_free (entry);
}

static void
update_row (Entry *entry)
{
  g_autofree char *time = g_date_time_format (entry->last, "%X");
  g_autofree char *subtitle = NULL;

  if (entry->count > 1)
    /* Translators: in the event log: how often an event came, the time of
     * the last one, and the engine's message. */
    subtitle = g_strdup_printf (ngettext ("%u time, last at %s · %s", "%u times, last at %s · %s",
                                          entry->count),
                                entry->count, time, entry->message);
  else
    subtitle = g_strdup_printf ("%s · %s", time, entry->message);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (entry->row), subtitle);
}

KestrelEventLog *
kestrel_event_log_new (GtkListBox *list,
                       GtkWidget  *empty,
                       GtkWidget  *filled)
{
  KestrelEventLog *log;

  g_return_val_if_fail (GTK_IS_LIST_BOX (list), NULL);

  log = g_new0 (KestrelEventLog, 1);
  log->list = list;
  log->empty = empty;
  log->filled = filled;
  g_queue_init (&log->entries);
  return log;
}

void
kestrel_event_log_free (KestrelEventLog *log)
{
  if (log == NULL)
    return;
  /* The rows belong to the list box, which goes with its window. */
  g_queue_clear_full (&log->entries, (GDestroyNotify) entry_free);
  g_free (log);
}

void
kestrel_event_log_add (KestrelEventLog        *log,
                       KestrelEngineEventKind  kind,
                       const char             *title,
                       const char             *message)
{
  Entry *newest = g_queue_peek_tail (&log->entries);

  g_return_if_fail (log != NULL);

  if (message == NULL)
    message = "";
  if (title == NULL)
    title = message;
  log->n_events++;

  if (newest != NULL && newest->kind == kind && g_str_equal (newest->message, message))
    {
      newest->count++;
      g_clear_pointer (&newest->last, g_date_time_unref);
      newest->last = g_date_time_new_now_local ();
      update_row (newest);
      return;
    }

  if (g_queue_get_length (&log->entries) >= KESTREL_EVENT_LOG_MAX)
    {
      Entry *oldest = g_queue_pop_head (&log->entries);

      gtk_list_box_remove (log->list, oldest->row);
      entry_free (oldest);
    }

  newest = g_new0 (Entry, 1);
  newest->kind = kind;
  newest->title = g_strdup (title);
  newest->message = g_strdup (message);
  newest->count = 1;
  newest->last = g_date_time_new_now_local ();
  /* Messages name files and nodes: plain text, never markup. */
  newest->row = g_object_new (ADW_TYPE_ACTION_ROW,
                              "use-markup", FALSE,
                              "title", title,
                              "title-lines", 0,
                              "subtitle-lines", 0,
                              NULL);
  update_row (newest);
  g_queue_push_tail (&log->entries, newest);
  gtk_list_box_prepend (log->list, newest->row);

  if (log->empty != NULL)
    gtk_widget_set_visible (log->empty, FALSE);
  if (log->filled != NULL)
    gtk_widget_set_visible (log->filled, TRUE);
}

guint
kestrel_event_log_get_n_entries (KestrelEventLog *log)
{
  g_return_val_if_fail (log != NULL, 0);

  return g_queue_get_length (&log->entries);
}

guint
kestrel_event_log_get_n_events (KestrelEventLog *log)
{
  g_return_val_if_fail (log != NULL, 0);

  return log->n_events;
}

JsonNode *
kestrel_event_log_to_json (KestrelEventLog *log)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  g_return_val_if_fail (log != NULL, NULL);

  json_builder_begin_array (builder);
  for (GList *l = log->entries.head; l != NULL; l = l->next)
    {
      Entry *entry = l->data;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, kestrel_engine_event_kind_name (entry->kind));
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, entry->title);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, entry->message);
      json_builder_set_member_name (builder, "count");
      json_builder_add_int_value (builder, entry->count);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  return json_builder_get_root (builder);
}
