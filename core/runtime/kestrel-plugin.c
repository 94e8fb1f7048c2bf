/* kestrel-plugin.c — finding, loading and listing plugins.
 *
 * Modules are opened with symbols bound now (not lazily): a plugin built
 * against a library that is missing a symbol must fail here, with a message,
 * rather than crash the first time the symbol is called. A module that
 * registered something is made resident, because its vtables are static
 * data inside it; one that is refused is closed again.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-plugin-config.h"
#include "kestrel-plugin-private.h"

typedef struct {
  KestrelPluginInfo info;       /* points into the fields below */
  char *name, *version, *description, *path;
  GPtrArray *task_decoders;     /* const KestrelTaskDecoderVTable * */
  GPtrArray *frame_sources;     /* const KestrelFrameSourceVTable * */
} Plugin;

struct _KestrelPluginRegistrar {
  Plugin *plugin;
  /* The first misuse by the plugin; reported after init returns, so a
   * broken plugin cannot half-register. */
  char *problem;
};

struct _KestrelPluginRegistry {
  GObject parent_instance;
  GMutex lock;
  GPtrArray *plugins;           /* Plugin * */
  GPtrArray *load_errors;       /* char * */
};

G_DEFINE_FINAL_TYPE (KestrelPluginRegistry, kestrel_plugin_registry, G_TYPE_OBJECT)

static void
plugin_free (Plugin *plugin)
{
  g_free (plugin->name);
  g_free (plugin->version);
  g_free (plugin->description);
  g_free (plugin->path);
  g_ptr_array_unref (plugin->task_decoders);
  g_ptr_array_unref (plugin->frame_sources);
  g_free (plugin);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Plugin, plugin_free)

static Plugin *
plugin_new (const char *path)
{
  Plugin *plugin = g_new0 (Plugin, 1);

  plugin->path = g_strdup (path);
  plugin->task_decoders = g_ptr_array_new ();
  plugin->frame_sources = g_ptr_array_new ();
  return plugin;
}

/* Fills the public view once the plugin is final. */
static void
plugin_publish (Plugin *plugin)
{
  plugin->info = (KestrelPluginInfo) {
    .name = plugin->name,
    .version = plugin->version,
    .description = plugin->description,
    .path = plugin->path,
    .n_task_decoders = plugin->task_decoders->len,
    .task_decoders = (const KestrelTaskDecoderVTable *const *) plugin->task_decoders->pdata,
    .n_frame_sources = plugin->frame_sources->len,
    .frame_sources = (const KestrelFrameSourceVTable *const *) plugin->frame_sources->pdata,
  };
}

/* ---- Registrar: what init() calls --------------------------------------- */

static void
registrar_problem (KestrelPluginRegistrar *registrar, char *message)
{
  if (registrar->problem == NULL)
    registrar->problem = message;
  else
    g_free (message);
}

void
kestrel_plugin_registrar_set_info (KestrelPluginRegistrar *registrar, const char *name,
                                   const char *version, const char *description)
{
  g_return_if_fail (registrar != NULL);

  if (name == NULL || *name == '\0' || !g_utf8_validate (name, -1, NULL))
    {
      registrar_problem (registrar, g_strdup ("set_info() without a name"));
      return;
    }
  g_free (registrar->plugin->name);
  g_free (registrar->plugin->version);
  g_free (registrar->plugin->description);
  registrar->plugin->name = g_strdup (name);
  registrar->plugin->version = g_strdup (version != NULL ? version : "");
  registrar->plugin->description = g_strdup (description != NULL ? description : "");
}

static gboolean
patterns_valid (const KestrelTensorPattern *patterns, guint n)
{
  if (n > 0 && patterns == NULL)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (patterns[i].n_dims > KESTREL_TENSOR_MAX_DIMS || patterns[i].dtype >= KESTREL_DTYPE_N_TYPES)
      return FALSE;
  return TRUE;
}

void
kestrel_plugin_registrar_add_task_decoder (KestrelPluginRegistrar *registrar,
                                           const KestrelTaskDecoderVTable *decoder)
{
  g_return_if_fail (registrar != NULL);

  if (decoder == NULL || decoder->name == NULL || *decoder->name == '\0')
    registrar_problem (registrar, g_strdup ("a task decoder without a name"));
  else if (decoder->create == NULL || decoder->destroy == NULL || decoder->decode == NULL)
    registrar_problem (registrar, g_strdup_printf ("task decoder '%s' lacks create, destroy or decode",
                                                   decoder->name));
  else if (decoder->labels == NULL || decoder->labels[0] == NULL)
    registrar_problem (registrar, g_strdup_printf ("task decoder '%s' has no labels", decoder->name));
  else if (decoder->n_inputs < 1 || !patterns_valid (decoder->inputs, decoder->n_inputs)
           || !patterns_valid (decoder->outputs, decoder->n_outputs))
    registrar_problem (registrar, g_strdup_printf ("task decoder '%s' has invalid input/output patterns",
                                                   decoder->name));
  else
    g_ptr_array_add (registrar->plugin->task_decoders, (gpointer) decoder);
}

void
kestrel_plugin_registrar_add_frame_source (KestrelPluginRegistrar *registrar,
                                           const KestrelFrameSourceVTable *source)
{
  g_return_if_fail (registrar != NULL);

  if (source == NULL || source->name == NULL || *source->name == '\0' || strchr (source->name, ':') != NULL)
    registrar_problem (registrar, g_strdup ("a frame source without a name (or with ':' in it)"));
  else if (source->open == NULL || source->next_frame == NULL || source->close == NULL)
    registrar_problem (registrar, g_strdup_printf ("frame source '%s' lacks open, next_frame or close",
                                                   source->name));
  else
    g_ptr_array_add (registrar->plugin->frame_sources, (gpointer) source);
}

/* Runs init and checks the result. `where` names the plugin in errors. */
static Plugin *
plugin_run_init (KestrelPluginInitFunc init, const char *path, const char *where, GError **error)
{
  g_autoptr(Plugin) plugin = plugin_new (path);
  KestrelPluginRegistrar registrar = { plugin, NULL };
  g_autoptr(GError) local_error = NULL;
  gboolean ok = init (&registrar, &local_error);
  g_autofree char *problem = registrar.problem;

  if (!ok)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "%s: plugin initialisation failed: %s",
                   where, local_error != NULL ? local_error->message : "no reason given");
      return NULL;
    }
  if (problem != NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED, "%s: refused: %s", where, problem);
      return NULL;
    }
  if (plugin->name == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED,
                   "%s: refused: the plugin did not say its name", where);
      return NULL;
    }
  if (plugin->task_decoders->len == 0 && plugin->frame_sources->len == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_FAILED,
                   "%s: refused: plugin '%s' provides nothing", where, plugin->name);
      return NULL;
    }
  plugin_publish (plugin);
  return g_steal_pointer (&plugin);
}

/* ---- Registry ------------------------------------------------------------ */

static void
kestrel_plugin_registry_finalize (GObject *object)
{
  KestrelPluginRegistry *self = KESTREL_PLUGIN_REGISTRY (object);

  g_ptr_array_unref (self->plugins);
  g_ptr_array_unref (self->load_errors);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (kestrel_plugin_registry_parent_class)->finalize (object);
}

static void
kestrel_plugin_registry_class_init (KestrelPluginRegistryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kestrel_plugin_registry_finalize;
}

static void
kestrel_plugin_registry_init (KestrelPluginRegistry *self)
{
  g_mutex_init (&self->lock);
  self->plugins = g_ptr_array_new_with_free_func ((GDestroyNotify) plugin_free);
  self->load_errors = g_ptr_array_new_with_free_func (g_free);
}

KestrelPluginRegistry *
kestrel_plugin_registry_new (void)
{
  return g_object_new (KESTREL_TYPE_PLUGIN_REGISTRY, NULL);
}

KestrelPluginRegistry *
kestrel_plugin_registry_get_default (void)
{
  static KestrelPluginRegistry *registry;

  if (g_once_init_enter (&registry))
    {
      KestrelPluginRegistry *r = kestrel_plugin_registry_new ();
      kestrel_plugin_registry_load_default (r);
      g_once_init_leave (&registry, r);
    }
  return registry;
}

static Plugin *
find_plugin_locked (KestrelPluginRegistry *self, const char *name)
{
  for (guint i = 0; i < self->plugins->len; i++)
    {
      Plugin *p = g_ptr_array_index (self->plugins, i);
      if (strcmp (p->name, name) == 0)
        return p;
    }
  return NULL;
}

/* Takes `plugin`; fails if its name is taken. */
static gboolean
add_plugin (KestrelPluginRegistry *self, Plugin *plugin, const char *where, GError **error)
{
  g_autoptr(Plugin) owned = plugin;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  Plugin *existing = find_plugin_locked (self, plugin->name);

  if (existing != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "%s: plugin '%s' is already loaded from %s",
                   where, plugin->name, existing->path != NULL ? existing->path : "the program");
      return FALSE;
    }
  g_ptr_array_add (self->plugins, g_steal_pointer (&owned));
  return TRUE;
}

gboolean
kestrel_plugin_registry_add_static (KestrelPluginRegistry *self, KestrelPluginInitFunc init,
                                    GError **error)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (self), FALSE);
  g_return_val_if_fail (init != NULL, FALSE);

  Plugin *plugin = plugin_run_init (init, NULL, "built-in plugin", error);
  return plugin != NULL && add_plugin (self, plugin, "built-in plugin", error);
}

gboolean
kestrel_plugin_registry_load_file (KestrelPluginRegistry *self, const char *path, GError **error)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  g_autofree char *where = g_filename_display_name (path);
  gpointer version_symbol = NULL, init_symbol = NULL;

  if (!g_module_supported ())
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: this system cannot load modules", where);
      return FALSE;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no such plugin file", where);
      return FALSE;
    }

  GModule *module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: cannot load: %s", where,
                   g_module_error ());
      return FALSE;
    }

  if (!g_module_symbol (module, KESTREL_PLUGIN_API_VERSION_SYMBOL, &version_symbol) || version_symbol == NULL
      || !g_module_symbol (module, KESTREL_PLUGIN_INIT_SYMBOL, &init_symbol) || init_symbol == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s: not a Kestrel plugin (it does not export %s and %s)", where,
                   KESTREL_PLUGIN_API_VERSION_SYMBOL, KESTREL_PLUGIN_INIT_SYMBOL);
      g_module_close (module);
      return FALSE;
    }

  guint32 api_version = *(const guint32 *) version_symbol;
  if (api_version != KESTREL_PLUGIN_API_VERSION)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: built for plugin API version %u, this Kestrel has version %u; rebuild the plugin",
                   where, api_version, KESTREL_PLUGIN_API_VERSION);
      g_module_close (module);
      return FALSE;
    }

  Plugin *plugin = plugin_run_init ((KestrelPluginInitFunc) init_symbol, path, where, error);
  if (plugin == NULL || !add_plugin (self, plugin, where, error))
    {
      g_module_close (module);
      return FALSE;
    }
  g_module_make_resident (module);
  g_debug ("loaded plugin '%s' %s from %s", plugin->name, plugin->version, where);
  return TRUE;
}

static void
record_load_error (KestrelPluginRegistry *self, const GError *error)
{
  g_warning ("%s", error->message);
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->load_errors, g_strdup (error->message));
  g_mutex_unlock (&self->lock);
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

guint
kestrel_plugin_registry_load_dir (KestrelPluginRegistry *self, const char *dir, gboolean recursive)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (self), 0);
  g_return_val_if_fail (dir != NULL, 0);

  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  guint loaded = 0;

  /* A folder on the search path that does not exist is normal. */
  if (d == NULL)
    return 0;
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  /* Sorted, so which of two same-named plugins wins does not depend on the
   * file system's order. */
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);
      g_autoptr(GError) error = NULL;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (recursive)
            loaded += kestrel_plugin_registry_load_dir (self, path, FALSE);
          continue;
        }
      if (!g_str_has_suffix (path, "." G_MODULE_SUFFIX))
        continue;
      if (kestrel_plugin_registry_load_file (self, path, &error))
        loaded++;
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        g_debug ("%s", error->message);
      else
        record_load_error (self, error);
    }
  return loaded;
}

/* Whether this program runs from the build tree, where the installed plugin
 * folder may hold plugins of another build (or none). */
static gboolean
running_uninstalled (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  char *root = realpath (KESTREL_BUILD_ROOT, NULL);
  gboolean inside = FALSE;

  if (exe != NULL && root != NULL)
    {
      g_autofree char *prefix = g_strconcat (root, G_DIR_SEPARATOR_S, NULL);
      inside = g_str_has_prefix (exe, prefix);
    }
  free (root);
  return inside;
}

char **
kestrel_plugin_get_search_path (void)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  const char *env = g_getenv ("KESTREL_PLUGIN_PATH");

  if (env != NULL)
    {
      g_auto(GStrv) dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
      for (guint i = 0; dirs[i] != NULL; i++)
        if (dirs[i][0] != '\0')
          g_strv_builder_add (builder, dirs[i]);
    }
  g_strv_builder_add (builder, running_uninstalled () ? KESTREL_BUILD_PLUGINDIR : KESTREL_PLUGINDIR);
  return g_strv_builder_end (builder);
}

guint
kestrel_plugin_registry_load_default (KestrelPluginRegistry *self)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (self), 0);

  g_auto(GStrv) dirs = kestrel_plugin_get_search_path ();
  guint loaded = 0;

  /* The build tree keeps each plugin in its own folder under plugins/. */
  for (guint i = 0; dirs[i] != NULL; i++)
    loaded += kestrel_plugin_registry_load_dir (self, dirs[i], strcmp (dirs[i], KESTREL_BUILD_PLUGINDIR) == 0);
  return loaded;
}

guint
kestrel_plugin_registry_get_n_plugins (KestrelPluginRegistry *self)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (self), 0);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  return self->plugins->len;
}

const KestrelPluginInfo *
kestrel_plugin_registry_get_plugin (KestrelPluginRegistry *self, guint i)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (self), NULL);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_return_val_if_fail (i < self->plugins->len, NULL);
  /* Plugins are never removed, so the pointer outlives the lock. */
  return &((Plugin *) g_ptr_array_index (self->plugins, i))->info;
}

char **
kestrel_plugin_registry_dup_load_errors (KestrelPluginRegistry *self)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (self), NULL);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < self->load_errors->len; i++)
    g_strv_builder_add (builder, g_ptr_array_index (self->load_errors, i));
  return g_strv_builder_end (builder);
}

const KestrelTaskDecoderVTable *
kestrel_plugin_registry_find_task_decoder (KestrelPluginRegistry *self, const char *name)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  for (guint i = 0; i < self->plugins->len; i++)
    {
      Plugin *p = g_ptr_array_index (self->plugins, i);
      for (guint j = 0; j < p->task_decoders->len; j++)
        {
          const KestrelTaskDecoderVTable *d = g_ptr_array_index (p->task_decoders, j);
          if (strcmp (d->name, name) == 0)
            return d;
        }
    }
  return NULL;
}

/* Whether the model's inputs and outputs fit the decoder's patterns. */
static gboolean
decoder_matches (const KestrelTaskDecoderVTable *d, KestrelModel *model, char **why)
{
  guint n_in = kestrel_model_get_n_inputs (model), n_out = kestrel_model_get_n_outputs (model);
  g_autofree const KestrelValue **ins = g_new0 (const KestrelValue *, n_in + 1);
  g_autofree const KestrelValue **outs = g_new0 (const KestrelValue *, n_out + 1);
  g_autofree guint *assigned = g_new0 (guint, MAX (d->n_inputs, d->n_outputs) + 1);
  g_autofree char *reason = NULL;

  for (guint i = 0; i < n_in; i++)
    ins[i] = kestrel_model_get_input (model, i);
  for (guint i = 0; i < n_out; i++)
    outs[i] = kestrel_model_get_output (model, i);

  if (!kestrel_tensor_patterns_assign (d->inputs, d->n_inputs, ins, n_in, assigned, &reason))
    {
      *why = g_strdup_printf ("'%s': inputs: %s", d->name, reason);
      return FALSE;
    }
  if (!kestrel_tensor_patterns_assign (d->outputs, d->n_outputs, outs, n_out, assigned, &reason))
    {
      *why = g_strdup_printf ("'%s': outputs: %s", d->name, reason);
      return FALSE;
    }
  return TRUE;
}

const KestrelTaskDecoderVTable *
kestrel_plugin_registry_find_task_decoder_for_model (KestrelPluginRegistry *self, KestrelModel *model,
                                                     GError **error)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (self), NULL);
  g_return_val_if_fail (model != NULL, NULL);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);
  g_autoptr(GString) reasons = g_string_new (NULL);

  for (guint i = 0; i < self->plugins->len; i++)
    {
      Plugin *p = g_ptr_array_index (self->plugins, i);
      for (guint j = 0; j < p->task_decoders->len; j++)
        {
          const KestrelTaskDecoderVTable *d = g_ptr_array_index (p->task_decoders, j);
          g_autofree char *why = NULL;

          if (decoder_matches (d, model, &why))
            return d;
          g_string_append_printf (reasons, "%s%s", reasons->len > 0 ? "; " : "", why);
        }
    }

  if (reasons->len == 0)
    g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                 "%s: no task decoder plugin is loaded (is KESTREL_PLUGIN_PATH right?)",
                 kestrel_model_get_origin (model));
  else
    g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                 "%s: no task decoder applies to this model (%s)", kestrel_model_get_origin (model),
                 reasons->str);
  return NULL;
}

const KestrelFrameSourceVTable *
kestrel_plugin_registry_find_frame_source (KestrelPluginRegistry *self, const char *name)
{
  g_return_val_if_fail (KESTREL_IS_PLUGIN_REGISTRY (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  for (guint i = 0; i < self->plugins->len; i++)
    {
      Plugin *p = g_ptr_array_index (self->plugins, i);
      for (guint j = 0; j < p->frame_sources->len; j++)
        {
          const KestrelFrameSourceVTable *s = g_ptr_array_index (p->frame_sources, j);
          if (strcmp (s->name, name) == 0)
            return s;
        }
    }
  return NULL;
}

const KestrelFrameSourceVTable *
kestrel_plugin_registry_find_frame_source_for_spec (KestrelPluginRegistry *self, const char *spec)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&self->lock);

  for (guint i = 0; i < self->plugins->len; i++)
    {
      Plugin *p = g_ptr_array_index (self->plugins, i);
      for (guint j = 0; j < p->frame_sources->len; j++)
        {
          const KestrelFrameSourceVTable *s = g_ptr_array_index (p->frame_sources, j);
          if (s->accepts != NULL && s->accepts (spec))
            return s;
        }
    }
  return NULL;
}
