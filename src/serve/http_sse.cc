// GET /api/live: a Server-Sent Events stream per client, fed by a bounded
// LiveSubscription (a slow reader loses its oldest messages, never blocks
// the aggregator or the other streams). The text and the bounds are the
// same for both transports; each carries the chunks its own way.
#include <fmt/format.h>

#include <algorithm>

#include "http_core.h"
#include "wikistream/live/live_aggregator.h"

namespace ws::serve {

Reply HttpCore::OpenLive() {
  if (!live_) return {ErrorResponse(503, "the live path is not running")};
  if (stopping_) return {ErrorResponse(503, "shutting down")};
  if (sse_active_.fetch_add(1) >= opts_.max_sse_streams) {
    sse_active_.fetch_sub(1);
    ApiResponse res = ErrorResponse(503, fmt::format("too many live streams (limit {})", opts_.max_sse_streams));
    res.headers.emplace_back("Retry-After", "5");
    return {std::move(res)};
  }
  if (sse_gauge_) sse_gauge_->Increment();
  auto sub = live_->Subscribe();
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    if (stopping_) sub->Close();
    subs_.push_back(sub);
  }
  Reply reply;
  reply.response.status = 200;
  reply.response.content_type = "text/event-stream";
  reply.response.headers = {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}};
  reply.live = std::make_shared<LiveStream>(this, std::move(sub));
  return reply;
}

void HttpCore::CloseLive(LiveStream*, const std::shared_ptr<live::LiveSubscription>& sub) {
  sub->Close();
  {
    std::lock_guard<std::mutex> lock(subs_mu_);
    subs_.erase(std::remove(subs_.begin(), subs_.end(), sub), subs_.end());
  }
  sse_active_.fetch_sub(1);
  if (sse_gauge_) sse_gauge_->Decrement();
}

LiveStream::LiveStream(HttpCore* core, std::shared_ptr<live::LiveSubscription> sub)
    : core_(core), sub_(std::move(sub)) {}

LiveStream::~LiveStream() {
  sub_->set_on_ready(nullptr);
  core_->CloseLive(this, sub_);
}

LiveStream::Chunk LiveStream::First() const {
  return {"retry: 3000\n\nevent: summary\ndata: ", core_->live_->RecentSnapshotJson(kLiveSnapshotMaxAge), "\n\n"};
}

std::optional<LiveStream::Chunk> LiveStream::Next(std::chrono::milliseconds wait) {
  if (sub_->dropped() > 0) {
    // The reader fell a whole queue behind: end its stream (the browser's
    // EventSource reconnects and starts from a snapshot) rather than feed
    // it a history with holes.
    return Chunk{"event: bye\ndata: {\"reason\":\"too slow\"}\n\n", nullptr, {}, true};
  }
  auto msg = sub_->Next(wait);
  if (!msg) {
    if (sub_->closed()) return Chunk{"event: bye\ndata: {}\n\n", nullptr, {}, true};
    return std::nullopt;
  }
  return Chunk{"event: " + msg->event + "\ndata: ", std::move(msg->data), "\n\n"};
}

std::chrono::milliseconds LiveStream::keepalive() const {
  return std::chrono::milliseconds(std::max(100, core_->opts_.sse_keepalive_ms));
}

void LiveStream::set_on_ready(std::function<void()> on_ready) { sub_->set_on_ready(std::move(on_ready)); }

void LiveStream::Close() { sub_->Close(); }

}  // namespace ws::serve
