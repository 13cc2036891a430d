// HttpServer: options, the choice of transport and an orderly stop. What
// both transports share is HttpCore (http_core.h); the transports are
// http_beast.cc and http_httplib.cc.
#include "wikistream/serve/http_server.h"

#include <prometheus/registry.h>

#include <algorithm>

#include "http_core.h"
#include "wikistream/common/logging.h"
#include "wikistream/live/live_aggregator.h"

namespace ws::serve {

using alerts::AlertSink;

Status ParseHttpAddress(const std::string& text, ServerOptions* options) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("--http must be HOST:PORT, got '" + text + "'");
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "127.0.0.1";
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoi(port) > 65535) {
    return Status::InvalidArgument("--http port must be 0..65535, got '" + port + "'");
  }
  options->address = host;
  options->port = std::stoi(port);
  return Status::OK();
}

std::string_view HttpTransportName(HttpTransport transport) {
  return transport == HttpTransport::kBeast ? "beast" : "httplib";
}

Result<HttpTransport> ParseHttpTransport(std::string_view name) {
  if (name == "beast") return HttpTransport::kBeast;
  if (name == "httplib") return HttpTransport::kHttplib;
  return Status::InvalidArgument(fmt::format("--http-transport must be beast or httplib, got '{}'", name));
}

// The transport-neutral core and the transport that carries it.
class HttpServer::Impl {
 public:
  Impl(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live, AlertSink* alerts,
       prometheus::Registry* registry, ServerCallbacks callbacks)
      : core_(std::move(options), store, live, alerts, registry, std::move(callbacks)),
        transport_(core_.options().transport == HttpTransport::kBeast ? MakeBeastTransport(&core_)
                                                                       : MakeHttplibTransport(&core_)) {}
  ~Impl() { Stop(); }

  Status Start() {
    if (started_.exchange(true)) return Status::InvalidArgument("server already started");
    core_.Start();
    if (Status s = transport_->Start(); !s.ok()) {
      core_.StopLive();
      return s;
    }
    log::Info("http", "serving on http://{}:{} ({})", core_.options().address, transport_->port(),
              HttpTransportName(core_.options().transport));
    return Status::OK();
  }
  void Stop() {
    // Live streams end first (each sends its last event), then the transport
    // closes every connection and joins its threads.
    core_.StopLive();
    transport_->Stop();
  }
  int port() const { return transport_->port(); }
  std::string address() const { return core_.options().address; }
  const Api& api() const { return core_.api(); }

 private:
  HttpCore core_;
  std::unique_ptr<Transport> transport_;
  std::atomic<bool> started_{false};
};

// ----------------------------------------------------------------------------

HttpServer::HttpServer(ServerOptions options, AnalyticsStore* store, live::LiveAggregator* live, AlertSink* alerts,
                       prometheus::Registry* registry, ServerCallbacks callbacks)
    : impl_(std::make_unique<Impl>(std::move(options), store, live, alerts, registry, std::move(callbacks))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Stop() { impl_->Stop(); }
int HttpServer::port() const { return impl_->port(); }
const Api& HttpServer::api() const { return impl_->api(); }
std::string HttpServer::url() const {
  const std::string host = impl_->address();
  const bool v6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", v6 ? "[" : "", host, v6 ? "]" : "", port());
}

}  // namespace ws::serve
