#include "wiring.h"

#include <cstdio>

namespace ws::app {

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "wikistream: %s\n", message.c_str());
  return code;
}

int Finish(const runtime::RoleOutcome& outcome) {
  return outcome.error.empty() ? outcome.exit_code : Fail(outcome.error, outcome.exit_code);
}

}  // namespace ws::app
