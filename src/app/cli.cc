#include "wikistream/app/cli.h"

#include <cstdio>

namespace ws::app {

int Main(int argc, char** argv) {
  std::fprintf(stderr, "wikistream: not yet wired\n");
  return 2;
}

}  // namespace ws::app
