/* ort-peer-test.h — what the tests that run ONNX Runtime
 * (tests/peers/ort-peer.js, through Node) check before they start.
 * Header-only: each test is one program. */
#pragma once

#include <stdio.h>

#include <glib.h>

#include "test-missing.h"

/* Finds node and the peer script. 0 when both are there; else what the
 * test's main must return, having said why: 77 (a skip, under meson's
 * exitcode protocol) when node is not installed outside CI, 1 when it is
 * missing in CI or onnxruntime-node is not installed (a broken set-up
 * must not pass for a skip). */
static inline int
ort_peer_test_find (char **node_path, char **peer_script)
{
  g_autofree char *ort_module = g_build_filename (TEST_SOURCE_ROOT, "tests", "peers", "node_modules",
                                                  "onnxruntime-node", "package.json", NULL);

  *node_path = g_find_program_in_path ("node");
  if (*node_path == NULL)
    *node_path = g_find_program_in_path ("nodejs");
  if (*node_path == NULL)
    {
      if (test_in_ci ())
        {
          printf ("Bail out! node is not installed (Debian packages nodejs and npm), and CI must have "
                  "every test package: add them to scripts/install-deps.sh --test\n");
          return 1;
        }
      printf ("1..0 # SKIP node is not available (Debian packages nodejs and npm; scripts/install-deps.sh --test)\n");
      return 77;
    }
  *peer_script = g_build_filename (TEST_SOURCE_ROOT, "tests", "peers", "ort-peer.js", NULL);
  if (!g_file_test (ort_module, G_FILE_TEST_EXISTS))
    {
      printf ("Bail out! onnxruntime-node is not installed in tests/peers: run scripts/install-deps.sh --test "
              "(or npm ci --ignore-scripts in tests/peers)\n");
      return 1;
    }
  return 0;
}
