// LiveAggregator: the in-memory, sub-second view of the stream (docs/serving.md).
//
// Contract:
// - Observe() is fed the accepted, deduplicated bronze rows of each
//   micro-batch (RecordBatch of ws::warehouse::bronze::RawEventsSchema(); columns are
//   read by name, so extra/reordered columns are fine). Every method is
//   thread-safe; readers never see half of a batch.
// - Buckets come from each row's event_timestamp; "now" comes from the
//   injectable clock (LiveOptions::clock), so tests are deterministic. Rows
//   newer than now count in the current second; rows older than a window do
//   not count in it.
// - Windows: per-second counts for the last 120 s and per-minute counts for
//   the last 60 min, each split by wiki (domain), region, event type and
//   bot / human / anonymous (anonymous = human whose name is an IP or a
//   temporary account, exactly as silver's is_anonymous).
// - Trending: edit/new events with a title over the last 60 minutes, per
//   (domain, title): edits and bytes changed (sum of |length_delta|).
// - Risk: the current UTC day's per-user state, computed with ws::rules
//   (NormalizeUser, ClassifyUser, AssessRisk) over exactly the rows gold
//   uses (is_bot false, user_normalized non-null), so live and gold agree
//   once the batch has caught up. The current day is the newest event_date
//   seen; rows of earlier days do not change it (gold scores them). On a
//   user's first HIGH of the day one `risk` alert is raised through
//   AlertSink, whose identity (risk, user, date) makes it once per user and
//   day, whoever found it first.
// - Bounded memory: at most max_domains interned wikis (later ones are
//   counted under "(other)"), max_trending_pages tracked pages, max_users
//   tracked users per day (later users are not scored live and are counted
//   in untracked_users), max_recent_alerts alerts, and per subscription a
//   queue of max_queue messages (oldest dropped first). Worst case with the
//   defaults ~100 MiB (50k pages x 60 minute entries x 16 B, 200k users x
//   ~200 B); a real day of the 18 default wikis needs a few MiB.
// - Subscriptions: Subscribe() returns a queue that receives one "summary"
//   message per PublishSummary() call (the HTTP server calls it once per
//   second) and one "alert" message per alert, as they happen. Close() or
//   CloseAllSubscriptions() ends a subscription; Next() then returns nullopt.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wikistream/alerts/alert_sink.h"
#include "wikistream/format/record_batch.h"
#include "wikistream/model/risk_level.h"
#include "wikistream/model/user.h"

namespace ws::live {

struct LiveOptions {
  // UTC micros; default ws::NowMicros.
  std::function<int64_t()> clock;
  // For replays of old captures: "now" is the newest event_timestamp seen
  // plus the time elapsed since it was seen (monotonic), so the windows show
  // the replay as it goes. Ignores `clock`.
  bool follow_event_time = false;
  size_t max_domains = 4096;
  size_t max_trending_pages = 50'000;
  size_t max_users = 200'000;
  size_t max_recent_alerts = 100;
  size_t trending_limit = 20;     // entries in SnapshotJson
  size_t risk_limit = 20;         // top users in SnapshotJson
};

// One SSE message: event name ("summary" | "alert") and its JSON data. The
// data is shared by every subscription it is pushed to: a summary goes to
// each open stream, and copying it per stream cost more than sending it.
struct LiveMessage {
  std::string event;
  std::shared_ptr<const std::string> data;
};

class LiveSubscription {
 public:
  explicit LiveSubscription(size_t max_queue) : max_queue_(max_queue) {}
  // Waits up to `timeout` for the next message. nullopt on timeout or once
  // closed (check closed() to tell them apart).
  std::optional<LiveMessage> Next(std::chrono::milliseconds timeout);
  void Close();
  bool closed() const;
  // Messages dropped because the reader was too slow.
  uint64_t dropped() const;
  // Called (on the pushing or closing thread, with no lock held) after each
  // Push() and on Close(), so an event-driven reader can poll Next(0)
  // instead of parking a thread in Next(). Must be cheap and not block.
  void set_on_ready(std::function<void()> on_ready);

  // Used by the aggregator.
  void Push(LiveMessage message);

 private:
  const size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<LiveMessage> queue_;
  bool closed_ = false;
  uint64_t dropped_ = 0;
  std::function<void()> on_ready_;
};

// The live risk state of one user for the current day (users with at least
// transform::kMinEventsForRiskScore events, as gold.risk_scores).
struct LiveUserRisk {
  std::string user;        // user_normalized == gold entity_id
  model::UserType user_type = model::UserType::kUnknown;  // temporary | ip | registered
  int64_t total_edits = 0;
  int64_t peak_hour_edits = 0;
  int64_t active_hours = 0;
  int64_t large_deletions = 0;
  int64_t domains_edited = 0;
  int64_t anonymous_edits = 0;
  int64_t first_seen_us = 0;
  int64_t last_seen_us = 0;
  int risk_score = 0;
  model::RiskLevel risk_level = model::RiskLevel::kLow;
  std::string evidence;    // transform::RiskEvidenceJson
};

// Counts of the current day (comparable with gold once the batch caught up).
struct LiveDayTotals {
  std::string date;  // empty before the first row
  int64_t total_events = 0;
  int64_t bot_edits = 0;
  int64_t human_edits = 0;
  int64_t anonymous_edits = 0;
  int64_t untracked_users = 0;  // rows of users beyond max_users (not scored)
  std::vector<std::pair<std::string, int64_t>> by_domain;  // sorted by domain
};

class LiveAggregator {
 public:
  // `alerts` may be null (no alerts raised).
  LiveAggregator(LiveOptions options, alerts::AlertSink* alerts);
  ~LiveAggregator();
  LiveAggregator(const LiveAggregator&) = delete;
  LiveAggregator& operator=(const LiveAggregator&) = delete;

  void Observe(const format::RecordBatch& rows);

  // The whole live state as one JSON object (see docs/serving.md).
  std::string SnapshotJson() const;
  // SnapshotJson() as built less than `max_age` ago (by this or by
  // PublishSummary), else built now (max_age 0: always). Callers waiting
  // meanwhile share the one build: a snapshot costs milliseconds with a full
  // day in memory, so a dashboard polling at load must not build one per
  // request.
  std::shared_ptr<const std::string> RecentSnapshotJson(std::chrono::milliseconds max_age) const;
  std::shared_ptr<LiveSubscription> Subscribe(size_t max_queue = 64);
  // Pushes SnapshotJson() as a "summary" message to every open subscription; drops closed ones.
  void PublishSummary();
  // Records an alert raised elsewhere (batch, DQ; wire AlertSink::SetListener
  // to this) in the recent ring and pushes it to subscribers. Alerts already
  // seen (same alert_id) are ignored, so the live path's own alerts are not
  // doubled when the listener is wired.
  void OnAlert(const model::Alert& alert);
  void CloseAllSubscriptions();
  size_t subscription_count() const;

  std::vector<LiveUserRisk> UserRisks() const;  // sorted by score desc, user asc
  LiveDayTotals DayTotals() const;
  uint64_t observed_rows() const { return observed_.load(); }
  // Alerts seen (raised here or passed to OnAlert) by (kind, severity), for
  // the wikistream_alerts_raised_total metric.
  std::map<std::pair<std::string, std::string>, uint64_t> AlertCounts() const;

 private:
  struct State;
  int64_t Now() const;

  LiveOptions options_;
  alerts::AlertSink* alerts_;
  std::atomic<uint64_t> observed_{0};
  std::atomic<int64_t> newest_event_us_{0};
  std::atomic<int64_t> newest_seen_mono_us_{0};
  mutable std::mutex mu_;
  std::unique_ptr<State> state_;
  mutable std::mutex subs_mu_;
  std::vector<std::shared_ptr<LiveSubscription>> subs_;
  // RecentSnapshotJson's; held while building, before mu_.
  mutable std::mutex recent_mu_;
  mutable std::shared_ptr<const std::string> recent_;
  mutable std::chrono::steady_clock::time_point recent_built_;
};

}  // namespace ws::live
