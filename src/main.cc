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
  return ws::app::Main(argc, argv);
}
