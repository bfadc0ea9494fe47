// RAII for posix_spawn's attribute objects, shared by the one-shot program
// runner (subprocess.cc) and the long-lived worker client (node_worker.cc):
// both must destroy them on every path, including early error returns.
#pragma once

#include <spawn.h>

namespace slabfuzz {

struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace slabfuzz
