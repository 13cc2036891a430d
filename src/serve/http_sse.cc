// GET /api/live: a Server-Sent Events stream per client, fed by a bounded
// LiveSubscription (a slow reader loses its oldest messages, never blocks
// the aggregator or the other streams).
#include <fmt/format.h>

#include <algorithm>

#include "http_internal.h"
#include "wikistream/live/live_aggregator.h"

namespace ws::serve {

void HttpServer::Impl::Live(const httplib::Request& req, httplib::Response& res) {
  if (!live_) {
    SendError(res, 503, "the live path is not running");
    return;
  }
  if (stopping_) {
    SendError(res, 503, "shutting down");
    return;
  }
  if (sse_active_.fetch_add(1) >= opts_.max_sse_streams) {
    sse_active_.fetch_sub(1);
    res.set_header("Retry-After", "5");
    SendError(res, 503, fmt::format("too many live streams (limit {})", opts_.max_sse_streams));
    return;
  }
  if (sse_gauge_) sse_gauge_->Increment();
  auto sub = live_->Subscribe();
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    if (stopping_) sub->Close();
    subs_.push_back(sub);
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  auto first = std::make_shared<bool>(true);
  const auto keepalive = std::chrono::milliseconds(std::max(100, opts_.sse_keepalive_ms));
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, sub, first, keepalive](size_t, httplib::DataSink& sink) {
        auto send = [&sink](const std::string& text) { return sink.write(text.data(), text.size()); };
        if (*first) {
          *first = false;
          // The current state at once, so a new client does not wait a tick.
          return send("retry: 3000\n\nevent: summary\ndata: " + live_->SnapshotJson() + "\n\n");
        }
        if (sub->dropped() > 0) {
          // The reader fell a whole queue behind: end its stream (the
          // browser's EventSource reconnects and starts from a snapshot)
          // rather than feed it a history with holes.
          send("event: bye\ndata: {\"reason\":\"too slow\"}\n\n");
          sink.done();
          return true;
        }
        auto msg = sub->Next(keepalive);
        if (!msg) {
          if (sub->closed()) {
            send("event: bye\ndata: {}\n\n");
            sink.done();
            return true;
          }
          return send(": keepalive\n\n");
        }
        return send("event: " + msg->event + "\ndata: " + msg->data + "\n\n");
      },
      [this, sub](bool) {
        sub->Close();
        {
          std::lock_guard<std::mutex> lock(subs_mu_);
          subs_.erase(std::remove(subs_.begin(), subs_.end(), sub), subs_.end());
        }
        sse_active_.fetch_sub(1);
        if (sse_gauge_) sse_gauge_->Decrement();
      });
}

}  // namespace ws::serve
