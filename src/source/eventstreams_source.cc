#include "wikistream/source/eventstreams_source.h"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/source/sse_framer.h"

namespace ws::source {
namespace {

constexpr std::string_view kLog = "eventstreams";
// Retry-After beyond this is treated as this: a misconfigured proxy must not
// park the ingest loop for hours.
constexpr int64_t kMaxRetryAfterMs = 15 * 60 * 1000;

void GlobalInitCurl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return std::string(s);
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// A header value must not smuggle a second header line.
bool SafeHeaderValue(const std::string& v) {
  return v.find_first_of("\r\n") == std::string::npos && v.find('\0') == std::string::npos;
}

}  // namespace

std::string MakeEventStreamsUserAgent(const std::string& version, const std::string& contact) {
  return "wikistream/" + version + " (" + contact + ")";
}

struct EventStreamsSource::Impl {
  enum class End { kCleanClose, kHttpError, kNetworkError, kIdle, kStopped };

  explicit Impl(EventStreamsOptions o) : opt(std::move(o)) {
    uint64_t seed = opt.jitter_seed != 0 ? opt.jitter_seed : std::random_device{}();
    rng.seed(seed);
    multi = curl_multi_init();
  }
  ~Impl() {
    StopAll();
    if (thread.joinable()) thread.join();
    if (multi != nullptr) curl_multi_cleanup(multi);
  }

  void StopAll() {
    stop.store(true);
    {
      std::lock_guard<std::mutex> lock(mu);
    }
    cv_not_empty.notify_all();
    cv_not_full.notify_all();
    cv_sleep.notify_all();
    if (multi != nullptr) curl_multi_wakeup(multi);
  }

  // ---- network thread ----
  void Run() {
    int attempt = 0;
    bool failing_403 = false;
    while (!stop.load()) {
      End end = Connect();
      if (end == End::kStopped || stop.load()) break;
      int64_t delay_ms = 0;
      if (events_this_conn > 0) attempt = 0;
      if (end == End::kCleanClose && events_this_conn > 0) {
        // The routine server-side close (every ~15 min): resume at once.
        delay_ms = retry_ms.value_or(0);
        Log(log::Level::kInfo, fmt::format("server closed the stream after {} events; reconnecting with Last-Event-ID",
                                           events_this_conn));
      } else {
        if (end == End::kCleanClose) SetError("server closed the stream before sending any event");
        if (http_status == 403) {
          if (!failing_403) {
            log::Error(kLog,
                       "HTTP 403 Forbidden from {}: Wikimedia requires a descriptive User-Agent with contact "
                       "information (https://meta.wikimedia.org/wiki/User-Agent_policy); sending \"{}\". Set "
                       "--contact (WIKISTREAM_CONTACT) to a URL or e-mail address; retrying every {} s",
                       opt.url, opt.user_agent, opt.backoff_max.count() / 1000.0);
          }
          failing_403 = true;
          delay_ms = opt.backoff_max.count();
        } else {
          int64_t min_ms = opt.backoff_min.count();
          int64_t cap = opt.backoff_max.count();
          if (attempt < 30) cap = std::min<int64_t>(cap, min_ms << attempt);
          cap = std::max(cap, min_ms);
          std::uniform_int_distribution<int64_t> dist(min_ms, cap);
          delay_ms = dist(rng);
          ++attempt;
        }
        if (retry_ms) delay_ms = std::max(delay_ms, *retry_ms);
        if (retry_after_ms) delay_ms = std::max(delay_ms, std::min(*retry_after_ms, kMaxRetryAfterMs));
        if (http_status != 403) {
          std::string err;
          {
            std::lock_guard<std::mutex> lock(mu);
            err = stats.last_error;
          }
          Log(log::Level::kWarn, fmt::format("{}; reconnecting in {} ms", err, delay_ms));
        }
      }
      if (http_status == 200 && events_this_conn > 0) failing_403 = false;
      SleepMs(delay_ms);
    }
  }

  void Log(log::Level level, const std::string& msg) {
    if (log::GetLevel() <= level) log::Write(level, kLog, msg);
  }

  void SleepMs(int64_t ms) {
    if (ms <= 0) return;
    std::unique_lock<std::mutex> lock(mu);
    cv_sleep.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop.load(); });
  }

  void SetError(std::string e) {
    std::lock_guard<std::mutex> lock(mu);
    stats.last_error = std::move(e);
  }

  std::string RequestUrl() const {
    if (last_id.empty() && !opt.since.empty()) {
      char sep = opt.url.find('?') == std::string::npos ? '?' : '&';
      std::string since;
      for (char c : opt.since) {
        if (c == '+') since += "%2B"; else since += c;
      }
      return opt.url + sep + "since=" + since;
    }
    return opt.url;
  }

  End Connect() {
    framer.Reset();
    http_status = 0;
    retry_after_ms.reset();
    error_body.clear();
    events_this_conn = 0;
    header_done = false;
    abort_reason = End::kNetworkError;
    {
      std::lock_guard<std::mutex> lock(mu);
      ++stats.connect_attempts;
      if (stats.connect_attempts > 1) ++stats.reconnects;
    }

    CURL* easy = curl_easy_init();
    if (easy == nullptr) {
      SetError("curl_easy_init failed");
      return End::kNetworkError;
    }
    char errbuf[CURL_ERROR_SIZE] = {0};
    std::string url = RequestUrl();
    struct curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Accept: text/event-stream");
    headers = curl_slist_append(headers, "Cache-Control: no-cache");
    if (!last_id.empty() && SafeHeaderValue(last_id)) {
      headers = curl_slist_append(headers, ("Last-Event-ID: " + last_id).c_str());
    }
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, opt.user_agent.c_str());
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt.connect_timeout.count()));
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Impl::WriteCb);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &Impl::HeaderCb);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, this);
    curl_multi_add_handle(multi, easy);

    if (!last_id.empty()) {
      Log(log::Level::kDebug, fmt::format("connecting to {} with Last-Event-ID {}", url, last_id));
    } else {
      Log(log::Level::kDebug, fmt::format("connecting to {}", url));
    }

    last_byte_us = MonotonicMicros();
    End end = End::kNetworkError;
    bool done = false;
    CURLcode result = CURLE_OK;
    const int64_t idle_us = opt.idle_timeout.count() * 1000;
    const int poll_ms = static_cast<int>(std::clamp<int64_t>(opt.idle_timeout.count() / 4, 5, 100));
    while (!done) {
      int running = 0;
      curl_multi_perform(multi, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
          result = msg->data.result;
          done = true;
        }
      }
      if (done) break;
      if (stop.load()) {
        end = End::kStopped;
        break;
      }
      if (MonotonicMicros() - last_byte_us > idle_us) {
        end = End::kIdle;
        break;
      }
      curl_multi_poll(multi, nullptr, 0, poll_ms, nullptr);
    }
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);

    // A live stream that ends (for whatever reason) mid-event drops the
    // partial event; Last-Event-ID makes the server send it again.
    std::vector<SseEvent> discarded;
    framer.Finish(false, &discarded);

    {
      std::lock_guard<std::mutex> lock(mu);
      stats.connected = false;
    }
    if (end == End::kStopped || stop.load()) return End::kStopped;
    if (end == End::kIdle) {
      std::lock_guard<std::mutex> lock(mu);
      ++stats.idle_timeouts;
      stats.last_error = fmt::format("no bytes from {} for {} ms (idle watchdog)", opt.url, opt.idle_timeout.count());
      return End::kIdle;
    }
    if (result == CURLE_WRITE_ERROR && abort_reason == End::kStopped) return End::kStopped;
    if (http_status != 0 && http_status != 200) {
      std::lock_guard<std::mutex> lock(mu);
      ++stats.http_errors;
      std::string body = Trim(error_body.substr(0, 200));
      for (char& c : body) {
        if (c == '\n' || c == '\r') c = ' ';
      }
      stats.last_error = fmt::format("HTTP {} from {}{}{}", http_status, opt.url, body.empty() ? "" : ": ", body);
      return End::kHttpError;
    }
    if (result != CURLE_OK) {
      std::string detail = errbuf[0] != 0 ? Trim(errbuf) : curl_easy_strerror(result);
      SetError(fmt::format("connection to {} failed: {}", opt.url, detail));
      return End::kNetworkError;
    }
    if (http_status != 200) {
      SetError(fmt::format("no HTTP response from {}", opt.url));
      return End::kNetworkError;
    }
    return End::kCleanClose;
  }

  static size_t HeaderCb(char* data, size_t size, size_t n, void* user) {
    auto* self = static_cast<Impl*>(user);
    size_t len = size * n;
    std::string_view line(data, len);
    std::string t = Trim(line);
    if (t.rfind("HTTP/", 0) == 0) {
      // Every response (including each redirect hop) starts over.
      size_t sp = t.find(' ');
      self->http_status = sp == std::string::npos ? 0 : std::atol(t.c_str() + sp + 1);
      self->retry_after_ms.reset();
      self->header_done = false;
      return len;
    }
    if (t.empty()) {
      if (!self->header_done && self->http_status == 200) {
        std::lock_guard<std::mutex> lock(self->mu);
        ++self->stats.connects;
        self->stats.connected = true;
        self->stats.last_http_status = 200;
      } else if (!self->header_done && self->http_status >= 400) {
        std::lock_guard<std::mutex> lock(self->mu);
        self->stats.last_http_status = self->http_status;
      }
      self->header_done = true;
      return len;
    }
    size_t colon = t.find(':');
    if (colon != std::string::npos && IEquals(std::string_view(t).substr(0, colon), "Retry-After")) {
      std::string v = Trim(std::string_view(t).substr(colon + 1));
      if (!v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        self->retry_after_ms = std::min<int64_t>(std::atoll(v.c_str()), kMaxRetryAfterMs / 1000) * 1000;
      } else {
        time_t when = curl_getdate(v.c_str(), nullptr);
        if (when > 0) {
          int64_t ms = (static_cast<int64_t>(when) * 1000) - NowMicros() / 1000;
          self->retry_after_ms = std::max<int64_t>(ms, 0);
        }
      }
    }
    return len;
  }

  static size_t WriteCb(char* data, size_t size, size_t n, void* user) {
    auto* self = static_cast<Impl*>(user);
    return self->OnBody(std::string_view(data, size * n));
  }

  size_t OnBody(std::string_view bytes) {
    last_byte_us = MonotonicMicros();
    {
      std::lock_guard<std::mutex> lock(mu);
      stats.bytes += static_cast<int64_t>(bytes.size());
    }
    if (http_status != 200) {
      if (error_body.size() < 1024) error_body.append(bytes.substr(0, 1024 - error_body.size()));
      return bytes.size();
    }
    pending.clear();
    framer.Feed(bytes, &pending);
    if (framer.retry_ms()) retry_ms = framer.retry_ms();
    for (SseEvent& ev : pending) {
      if (!ev.id.empty()) last_id = ev.id;
      if (ev.type != "message" || ev.data.empty()) {
        std::lock_guard<std::mutex> lock(mu);
        ++stats.skipped_events;
        continue;
      }
      SourceRecord rec;
      rec.payload = std::move(ev.data);
      rec.received_at_us = NowMicros();
      rec.position = last_id;
      std::unique_lock<std::mutex> lock(mu);
      // Never drop: while the queue is full this callback blocks, curl stops
      // reading the socket and TCP flow control pushes back on the server.
      cv_not_full.wait(lock, [&] { return queue.size() < opt.queue_capacity || stop.load(); });
      if (stop.load()) {
        abort_reason = End::kStopped;
        return 0;  // aborts the transfer
      }
      queue.push_back(std::move(rec));
      ++stats.events;
      stats.last_event_at_us = NowMicros();
      ++events_this_conn;
      lock.unlock();
      cv_not_empty.notify_one();
    }
    // Time spent blocked on a full queue is not server silence.
    last_byte_us = MonotonicMicros();
    return bytes.size();
  }

  EventStreamsOptions opt;
  std::atomic<bool> stop{false};
  CURLM* multi = nullptr;
  std::thread thread;

  // Shared between Poll and the network thread.
  mutable std::mutex mu;
  std::condition_variable cv_not_empty, cv_not_full, cv_sleep;
  std::deque<SourceRecord> queue;
  EventStreamsStats stats;
  bool started = false;
  std::string position;  // of the last record returned by Poll

  // Network thread only (set by Resume before it starts).
  std::mt19937_64 rng;
  SseFramer framer;
  std::vector<SseEvent> pending;
  std::string last_id;  // Last-Event-ID for the next connection
  std::optional<int64_t> retry_ms;
  std::optional<int64_t> retry_after_ms;
  long http_status = 0;
  bool header_done = false;
  std::string error_body;
  int64_t events_this_conn = 0;
  int64_t last_byte_us = 0;
  End abort_reason = End::kNetworkError;
};

EventStreamsSource::EventStreamsSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventStreamsSource::~EventStreamsSource() = default;

Status EventStreamsSource::Resume(const std::string& position) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->started) return Status::InvalidArgument("eventstreams: Resume() after the first Poll()");
  if (!SafeHeaderValue(position)) return Status::InvalidArgument("eventstreams: position contains a line break");
  impl_->last_id = position;
  impl_->position = position;
  return Status::OK();
}

Status EventStreamsSource::Poll(std::vector<SourceRecord>* out, size_t max_records, std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.stop.load()) return Status::Cancelled("eventstreams: stopped");
  if (!s.started) {
    s.started = true;
    s.thread = std::thread([&s] { s.Run(); });
  }
  s.cv_not_empty.wait_for(lock, timeout, [&] { return !s.queue.empty() || s.stop.load(); });
  if (s.stop.load()) return Status::Cancelled("eventstreams: stopped");
  size_t n = std::min(max_records, s.queue.size());
  for (size_t i = 0; i < n; ++i) {
    out->push_back(std::move(s.queue.front()));
    s.queue.pop_front();
  }
  if (n > 0) s.position = out->back().position;
  lock.unlock();
  if (n > 0) s.cv_not_full.notify_all();
  return Status::OK();
}

std::string EventStreamsSource::ResumePosition() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->position;
}

void EventStreamsSource::Stop() { impl_->StopAll(); }

EventStreamsStats EventStreamsSource::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  EventStreamsStats s = impl_->stats;
  s.queued = impl_->queue.size();
  return s;
}

Result<std::unique_ptr<EventStreamsSource>> OpenEventStreamsSource(EventStreamsOptions options) {
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("eventstreams: URL must start with http:// or https://: " + options.url);
  }
  if (options.user_agent.empty() || !SafeHeaderValue(options.user_agent)) {
    return Status::InvalidArgument("eventstreams: a User-Agent with contact information is required");
  }
  if (!options.since.empty() && !ParseIso8601Micros(options.since)) {
    return Status::InvalidArgument("eventstreams: since is not an ISO-8601 time: " + options.since);
  }
  if (options.backoff_min.count() < 0 || options.backoff_max < options.backoff_min) {
    return Status::InvalidArgument("eventstreams: backoff_min must be >= 0 and <= backoff_max");
  }
  if (options.idle_timeout.count() <= 0) return Status::InvalidArgument("eventstreams: idle_timeout must be > 0");
  if (options.queue_capacity == 0) options.queue_capacity = 1;
  GlobalInitCurl();
  auto impl = std::make_unique<EventStreamsSource::Impl>(std::move(options));
  if (impl->multi == nullptr) return Status::Internal("eventstreams: curl_multi_init failed");
  return std::unique_ptr<EventStreamsSource>(new EventStreamsSource(std::move(impl)));
}

}  // namespace ws::source
