// The `bronze` and `produce` roles (docs/operations.md, "Roles"): each opens
// what it needs, serves /metrics, /healthz and /readyz on --http
// (ops_server.h), runs its loop until the source ends or shutdown is
// requested, and says how the process should exit.
//
// Contract (both):
// - The caller validated the options (usage errors are its business),
//   installed `shutdown` (ShutdownSignal::Install) and keeps it alive.
// - /readyz names what the role still waits for ("opening the warehouse",
//   "connecting to Kafka", ...), then the role's own check; from the first
//   shutdown request it answers "shutting down". /healthz fails when the
//   loop made no progress for kRoleStallUs.
// - A shutdown request stops the source; the loop flushes and commits what
//   it holds (bronze: rows + position; produce: deliveries, then the saved
//   position) and the outcome is exit 0.
// - Failures: the outcome holds one line for stderr and exit code 2 for a
//   usage error found while opening (ExitCodeFor), else 1.
//
// RunBronzeService: the Kafka topic of --source into bronze, with
// /readyz failing while commits fail or no partition is assigned;
// metrics (IngestMetrics) are published every second.
// RunProduceService: --source into Kafka (--kafka); malformed payloads go
// to dlq-events (ProduceRouter). It resumes from the position saved in
// --position-file (what Kafka last acknowledged: the source re-sends from
// there, bronze drops duplicates by event_id) and saves it after each
// acknowledged flush; /readyz fails after a failed delivery or while
// EventStreams is disconnected.
#pragma once

#include <cstdint>
#include <string>

#include "wikistream/common/status.h"
#include "wikistream/ingest/ingest_loop.h"
#include "wikistream/runtime/config.h"
#include "wikistream/runtime/shutdown_signal.h"

namespace ws::runtime {

// bronze and produce report unhealthy when their loop made no progress for
// this long (a commit on a slow store with its retries stays well below).
inline constexpr int64_t kRoleStallUs = 300 * 1000000LL;

struct RoleOutcome {
  int exit_code = 0;
  std::string error;  // one line when exit_code != 0
};

// 2 for a usage error (InvalidArgument), else 1.
int ExitCodeFor(const Status& s);

struct BronzeServiceOptions {
  std::string position_name;       // PositionName(spec): where bronze keeps the position
  ingest::IngestLoopOptions loop;  // IngestLoopOptionsFor(config, domains)
};

RoleOutcome RunBronzeService(const Config& config, BronzeServiceOptions options, ShutdownSignal* shutdown);
RoleOutcome RunProduceService(const Config& config, ShutdownSignal* shutdown);

}  // namespace ws::runtime
