// The adapter between cpp-httplib and the Api: every request goes through
// Dispatch, which hands it to the Api and falls back to the dashboard's
// files; the error and exception handlers keep every error JSON.
#include <fmt/format.h>

#include "http_internal.h"
#include "wikistream/common/logging.h"

namespace ws::serve {

using nlohmann::json;

void SetCommonHeaders(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
}

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  // Bodies can echo request bytes (the path of an unknown API route), which
  // need not be UTF-8: replace bad sequences (U+FFFD) instead of letting
  // dump() throw, which turned a 404 into a 500.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendError(httplib::Response& res, int status, const std::string& message) {
  SendJson(res, status, json{{"error", message}});
}

void HttpServer::Impl::Count(const httplib::Request& req, const httplib::Response& res) {
  if (!requests_) return;
  requests_->Add({{"route", api_.RouteLabel(req.path)}, {"code", std::to_string(res.status)}}).Increment();
}

void HttpServer::Impl::Routes() {
  auto wrap = [this](void (Impl::*fn)(const httplib::Request&, httplib::Response&)) {
    return [this, fn](const httplib::Request& req, httplib::Response& res) { (this->*fn)(req, res); };
  };
  svr_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    SetCommonHeaders(res);
    if (OnRejectingWorker()) {
      res.set_header("Retry-After", "1");
      res.set_header("Connection", "close");
      SendError(res, 503, "server busy: too many connections; retry shortly");
      return httplib::Server::HandlerResponse::Handled;
    }
    // A request-target is ASCII (RFC 9112 3.2, RFC 3986): clients send
    // other bytes percent-encoded. cpp-httplib 0.11 accepts raw bytes >= 0x80
    // and would route them; answer a clear 400 instead of guessing an
    // encoding. Percent-encoded bytes (decoded into req.path) still route.
    for (unsigned char c : req.target) {
      if (c >= 0x80) {
        SendError(res, 400, "bad request: the request target must be ASCII (percent-encode other bytes)");
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr_.Get(R"(/.*)", wrap(&Impl::Dispatch));
  svr_.Post(R"(/.*)", wrap(&Impl::Dispatch));

  // Every error leaves as JSON: fill in bodies httplib produced itself (404
  // for unrouted paths/methods, 413, 400 for malformed requests).
  svr_.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = res.status == 404 ? "not found"
                          : res.status == 413 ? "request body too large"
                          : res.status == 414 ? "request URI too long"
                          : res.status == 405 ? "method not allowed"
                          : res.status == 400 ? "bad request"
                                              : fmt::format("HTTP {}", res.status);
    res.set_content(json{{"error", message}}.dump(), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr_.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log::Error("http", "{} {}: {}", req.method, req.path, what);
    SendError(res, 500, "internal error");
  });
  // Counted before the response is written, not in the logger (which runs after
  // the bytes are sent): a client that has its response must find it counted.
  svr_.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) { Count(req, res); });
  svr_.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    log::Debug("http", "{} {} {}", req.method, req.path, res.status);
  });
}

void HttpServer::Impl::Dispatch(const httplib::Request& req, httplib::Response& res) {
  if (opts_.ops_only && req.path != "/metrics" && req.path != "/healthz" && req.path != "/readyz") {
    SendError(res, 404, "not found: this process serves only /metrics, /healthz and /readyz");
    return;
  }
  if (req.path == "/api/live" && req.method == "GET") {
    Live(req, res);
    return;
  }
  if (!AdminAllowed(req, res)) return;
  ApiRequest in;
  in.method = req.method;
  in.path = req.path;
  for (const auto& [k, v] : req.params) in.query.emplace_back(k, v);
  in.if_none_match = req.get_header_value("If-None-Match");
  in.accept_encoding = req.get_header_value("Accept-Encoding");
  in.authorization = req.get_header_value("Authorization");
  in.body = req.body;
  std::optional<ApiResponse> out = api_.Handle(in);
  if (!out) {
    if (req.method == "GET" || req.method == "HEAD") {
      Static(req, res);
    } else {
      SendError(res, 404, "not found");
    }
    return;
  }
  res.status = out->status;
  for (auto& [k, v] : out->headers) res.set_header(k, v);
  if (out->body.empty()) {
    if (!out->content_type.empty()) res.set_header("Content-Type", out->content_type);
    return;
  }
  if (out->status >= 400) {
    // Errors are never compressed by the API; httplib's error handler only
    // fills in bodies that are empty.
    res.set_content(out->body, out->content_type);
    return;
  }
  // The API chose the encoding: a sized provider keeps httplib from
  // compressing the body again.
  auto body = std::make_shared<std::string>(std::move(out->body));
  res.set_content_provider(body->size(), out->content_type,
                           [body](size_t offset, size_t length, httplib::DataSink& sink) {
                             return sink.write(body->data() + offset, length);
                           });
}

}  // namespace ws::serve
