/* test-missing.h — what a test does when something it needs from a Debian
 * package is not installed.
 *
 * On a developer's machine it skips, naming the package. In CI (the
 * environment variable CI is set and not empty) scripts/install-deps.sh
 * --test has installed every package the tests use, so a skip there would
 * hide a missing install step: the test fails instead. Skips for reasons no
 * package can fix (an instruction set this CPU lacks) are not for this.
 */
#pragma once

#include <glib.h>

static inline gboolean
test_in_ci (void)
{
  const char *ci = g_getenv ("CI");

  return ci != NULL && *ci != '\0';
}

/* Skips (or fails in CI) the running test: `what` is missing, and Debian
 * package `package` provides it. */
static inline void
test_missing (const char *package,
              const char *what)
{
  if (test_in_ci ())
    g_test_fail_printf ("%s is missing (Debian package %s), and CI must have every test package: "
                        "add it to scripts/install-deps.sh --test", what, package);
  else
    g_test_skip_printf ("%s is missing (Debian package %s; scripts/install-deps.sh --test installs it)",
                        what, package);
}

/* The Debian package that provides the system files under `path` that
 * tests read (scripts/install-deps.sh --test installs each). */
static inline const char *
test_package_for_path (const char *path)
{
  static const struct { const char *prefix, *package; } packages[] = {
    { "/usr/share/libonnx-testdata/", "libonnx-testdata" },
    { "/usr/lib/python3/dist-packages/skimage/", "python3-skimage" },
    { "/usr/share/matplotlib/", "python-matplotlib-data" },
    { "/usr/share/doc/opencv-doc/", "opencv-doc" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (packages); i++)
    if (g_str_has_prefix (path, packages[i].prefix))
      return packages[i].package;
  return "unknown: find it with dpkg -S on a machine that has it";
}

/* Whether `path` exists; if not, test_missing() for it and its package. */
static inline gboolean
test_have_path (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  test_missing (test_package_for_path (path), path);
  return FALSE;
}
