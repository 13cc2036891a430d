// Helpers the subcommands share (private to app/).
#pragma once

#include <string>

#include "wikistream/common/result.h"
#include "wikistream/runtime/config.h"
#include "wikistream/serve/http_server.h"

namespace ws::app {

// Prints "wikistream: MESSAGE" (one line) to stderr and returns `code`.
int Fail(const std::string& message, int code = 1);
// 2 for a usage error (InvalidArgument), else 1.
int ExitCodeFor(const Status& s);
// --http, --admin-token and --web-root as the server's options; a bad
// address is InvalidArgument naming --http.
Result<serve::ServerOptions> ServerOptionsFor(const runtime::Config& config);

}  // namespace ws::app
