// Spreading a batch over a pool of workers: contiguous shares, one thread
// per worker when there is more than one worker and more than one item.
// Used by WorkerPool (worker_pool.cc), which serves the Binaryen lane and
// the external engines.
// Contract: share(w, begin, end) is called once for every worker w in
// [0, workers), with [begin, end) its contiguous part of [0, items) (maybe
// empty); all calls have returned when runShares returns.
#pragma once

#include <cstddef>
#include <thread>
#include <vector>

namespace slabfuzz {

template <typename Share>
void runShares(size_t items, size_t workers, Share&& share) {
  auto one = [&](size_t w) { share(w, items * w / workers, items * (w + 1) / workers); };
  if (workers <= 1 || items <= 1) {
    for (size_t w = 0; w < workers; ++w) one(w);
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (size_t w = 0; w < workers; ++w) threads.emplace_back(one, w);
  for (std::thread& t : threads) t.join();
}

}  // namespace slabfuzz
