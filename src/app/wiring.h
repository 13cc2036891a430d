// Helpers the subcommands share (private to app/).
#pragma once

#include <string>

#include "wikistream/runtime/role_services.h"

namespace ws::app {

// Prints "wikistream: MESSAGE" (one line) to stderr and returns `code`.
int Fail(const std::string& message, int code = 1);
// The exit code of a role, printing its error line (if any) like Fail.
int Finish(const runtime::RoleOutcome& outcome);

}  // namespace ws::app
