#include "wiring.h"

#include <cstdio>

namespace ws::app {

int Fail(const std::string& message, int code) {
  std::fprintf(stderr, "wikistream: %s\n", message.c_str());
  return code;
}

int ExitCodeFor(const Status& s) { return s.code() == Status::Code::kInvalidArgument ? 2 : 1; }

Result<serve::ServerOptions> ServerOptionsFor(const runtime::Config& config) {
  serve::ServerOptions so;
  if (Status s = serve::ParseHttpAddress(config.http, &so); !s.ok()) {
    return Status::InvalidArgument("--http: " + s.message());
  }
  so.admin_token = config.admin_token;
  so.web_root = runtime::DefaultWebRoot(config);
  return so;
}

}  // namespace ws::app
