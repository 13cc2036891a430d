#include <malloc.h>

#include <algorithm>
#include <thread>

#include "wikistream/app/cli.h"

int main(int argc, char** argv) {
  // glibc gives threads up to 8 malloc arenas per core, and our worker
  // threads are short-lived (one per poll's rules, per commit's writes), so
  // freed memory ends up spread over many arenas that each keep their share.
  // One arena per core holds the 1M-event replay's peak at ~210 MiB instead
  // of 215-250 MiB, at the same speed (docs/performance.md).
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  // Blocks of 4 MiB and more (gold's hash tables, the writer's larger buffers) are
  // mapped and unmapped on their own. glibc would otherwise raise its mmap
  // threshold to the largest block freed so far (up to 32 MiB) and carve such
  // blocks from the heap, where what they leave behind fragments it. Mapped,
  // the 10M-event replay peaks at 162 / 199 MiB (1 / 2 threads) instead of
  // 185 / 235, at some cost in time (docs/performance.md).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  return ws::app::Main(argc, argv);
}
