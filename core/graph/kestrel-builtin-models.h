/* kestrel-builtin-models.h — the models bundled inside libkestrel.
 *
 * The .onnx files of data/models/ are compiled into a GResource in libkestrel
 * (data/kestrel.gresource.xml), so every front end has them without files
 * on disk. Short names:
 *   front  blazeface-front-128 (BlazeFace short range, 128x128)
 *   back   blazeface-back-256  (BlazeFace full range, 256x256)
 */
#pragma once

#include "kestrel-model.h"

G_BEGIN_DECLS

#define KESTREL_BUILTIN_MODELS_PATH "/org/kestrel/Kestrel/models/"

/* NULL-terminated short names. */
const char *const *kestrel_builtin_model_names (void);
/* "blazeface-front-128" for "front"; NULL for an unknown name. */
const char *kestrel_builtin_model_file_stem (const char *name);
/* The lowest score worth reporting for the built-in model `name`, chosen
 * on the bundled photos; -1 for a name that is not a built-in model (its
 * decoder's default applies). */
float kestrel_builtin_model_get_score_threshold (const char *name);
/* The bundled model called `name` (a short name or its file stem). */
KestrelModel *kestrel_builtin_model_new (const char *name, GError **error);

/* How every front end names a model: a built-in name, or else a path to an
 * .onnx file. The contents (*origin names them in messages: a resource URI
 * or the path), or the loaded model. */
GBytes *kestrel_model_spec_dup_bytes (const char *spec, char **origin, GError **error);
KestrelModel *kestrel_model_new_for_spec (const char *spec, GError **error);
/* The same with inputs planned at `input_shapes` ("NAME=D0xD1x...", a
 * NULL-terminated list, or NULL): see kestrel_model_new_from_bytes_at(). */
KestrelModel *kestrel_model_new_for_spec_at (const char *spec, const char *const *input_shapes,
                                             GError **error);

G_END_DECLS
