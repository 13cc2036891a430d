#include "wikistream/runtime/sources.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "wikistream/common/file_system.h"
#include "wikistream/common/logging.h"
#include "wikistream/source/eventstreams_source.h"
#include "wikistream/source/kafka.h"
#include "wikistream/source/replay_source.h"
#include "wikistream/source/synthetic_source.h"
#include "wikistream/warehouse/warehouse.h"

namespace ws::runtime {

using source::EventStreamsOptions;
using source::KafkaSource;
using source::KafkaSourceOptions;
using source::MakeSyntheticSource;
using source::MergeKafkaPositions;
using source::OpenEventStreamsSource;
using source::OpenReplaySource;
using source::ParseKafkaSpec;
using source::Source;

Result<SourceSpec> ParseSourceSpec(const std::string& spec) {
  using model::SourceKind;
  SourceSpec s;
  if (spec == Name(SourceKind::kEventStreams)) {
    s.kind = SourceKind::kEventStreams;
  } else if (spec.rfind("replay:", 0) == 0) {
    s.kind = SourceKind::kReplay;
    s.path = spec.substr(7);
    if (s.path.empty()) return Status::InvalidArgument("--source replay:PATH needs a file path");
  } else if (spec == Name(SourceKind::kSynthetic) || spec.rfind("synthetic:", 0) == 0) {
    s.kind = SourceKind::kSynthetic;
    if (spec.size() > 10) {
      const std::string n = spec.substr(10);
      char* end = nullptr;
      long long v = std::strtoll(n.c_str(), &end, 10);
      if (n.empty() || *end != '\0' || v < 0) {
        return Status::InvalidArgument("--source synthetic:N needs a non-negative event count, got '" + n + "'");
      }
      s.count = v;
    }
  } else if (spec.rfind("kafka://", 0) == 0) {
    s.kind = SourceKind::kKafka;
    if (spec.size() <= 8) return Status::InvalidArgument("--source kafka://BROKERS[/TOPIC] needs brokers");
  } else {
    return Status::InvalidArgument(fmt::format(
        "unknown --source '{}' (expected eventstreams, replay:PATH, synthetic[:N] or kafka://BROKERS[/TOPIC])", spec));
  }
  return s;
}

std::string PositionName(const SourceSpec& spec) {
  std::string name(Name(spec.kind));
  if (spec.kind == model::SourceKind::kReplay) name += ":" + std::filesystem::path(spec.path).filename().string();
  return name;
}

// Every position the Kafka consumers of the group committed with their rows
// (oldest first), merged per partition: each consumer's commits carry only
// its own partitions.
Result<std::string> MergeCommittedKafkaPositions(const std::vector<std::string>& committed) {
  std::string merged;
  for (const std::string& p : committed) {
    if (merged.empty()) {
      merged = p;
    } else {
      WS_ASSIGN_OR_RETURN(merged, MergeKafkaPositions(merged, p));
    }
  }
  return merged;
}

namespace {

Result<std::string> CommittedKafkaPositions(const Config& config) {
  WS_ASSIGN_OR_RETURN(auto warehouse, OpenWarehouse(config, /*create=*/false));
  WS_ASSIGN_OR_RETURN(auto raw, warehouse->table("bronze.raw_events"));
  WS_RETURN_IF_ERROR(raw->Refresh());
  return MergeCommittedKafkaPositions(
      ingest::BronzeWriter::CommittedPositions(*raw, std::string(Name(model::SourceKind::kKafka))));
}

}  // namespace

Result<std::string> ResumePositionFor(const Source& source, const ingest::BronzeWriter& writer) {
  if (source.kind() != model::SourceKind::kKafka) return writer.resume_position();
  return MergeCommittedKafkaPositions(writer.AllPositions());
}

Result<model::DomainFilter> TargetDomains(const Config& config) {
  model::DomainFilter domains;
  std::string error;
  if (config.domains != "default" && !model::DomainFilter::Parse(config.domains, &domains, &error)) {
    return Status::InvalidArgument("--domains: " + error);
  }
  return domains;
}

ingest::IngestLoopOptions IngestLoopOptionsFor(const Config& config, const model::DomainFilter& domains) {
  ingest::IngestLoopOptions o;
  o.commit_interval_s = config.commit_interval_s;
  o.commit_max_events = config.commit_max_events;
  o.threads = WorkerThreads(config);
  // A second core lands one commit while the next polls are parsed.
  o.pipelined_commits = o.threads > 1;
  // On an object store a commit is a chain of round trips: while one lands,
  // let the next batch grow (fewer, bigger commits) rather than wait. On a
  // local disk landing costs CPU, not latency, and bigger batches only cost
  // memory (the 256 MiB target of a 1M-event replay).
  o.max_buffered_bytes = config.warehouse.starts_with("s3://") ? 4 * o.commit_max_bytes : o.commit_max_bytes;
  o.domains = domains;
  return o;
}

Result<std::unique_ptr<IngestSession>> OpenIngestSession(std::unique_ptr<Source> source,
                                                         warehouse::Warehouse* warehouse,
                                                         const std::string& position_name,
                                                         ingest::IngestLoopOptions options) {
  auto session = std::make_unique<IngestSession>();
  session->source = std::move(source);
  const ingest::BronzeFence fence = session->source->kind() == model::SourceKind::kKafka
                                        ? ingest::BronzeFence::kKafkaOffsets
                                        : ingest::BronzeFence::kSingleWriter;
  WS_ASSIGN_OR_RETURN(session->writer, ingest::BronzeWriter::Open(warehouse, position_name, fence));
  WS_ASSIGN_OR_RETURN(std::string position, ResumePositionFor(*session->source, *session->writer));
  if (!position.empty()) WS_RETURN_IF_ERROR(session->source->Resume(position));
  session->loop = std::make_unique<ingest::IngestLoop>(session->source.get(), session->writer.get(), std::move(options));
  return session;
}

Result<std::unique_ptr<Source>> OpenSource(const Config& config) {
  WS_ASSIGN_OR_RETURN(SourceSpec spec, ParseSourceSpec(config.source));
  if (spec.kind == model::SourceKind::kEventStreams) {
    EventStreamsOptions o;
    o.url = config.eventstreams_url;
    o.user_agent = UserAgent(config);
    o.since = config.since;
    WS_ASSIGN_OR_RETURN(auto src, OpenEventStreamsSource(o));
    return std::unique_ptr<Source>(std::move(src));
  }
  if (spec.kind == model::SourceKind::kReplay) {
    auto r = OpenReplaySource(DefaultFileSystem(), spec.path, config.speed);
    if (!r.ok()) return Status::InvalidArgument("cannot read replay file: " + r.status().message());
    return std::move(r).value();
  }
  if (spec.kind == model::SourceKind::kSynthetic) {
    // An endless synthetic stream is a demo: pace it at real time unless told otherwise.
    double speed = config.speed > 0 ? config.speed : (spec.count < 0 ? 1.0 : 0.0);
    return MakeSyntheticSource(config.seed, spec.count, speed);
  }
  WS_ASSIGN_OR_RETURN(KafkaSourceOptions ko, ParseKafkaSpec(config.source));
  ko.group = config.kafka_group;
  ko.extra_config = config.kafka_properties;
  // A partition this consumer is given in a rebalance may have had another
  // owner until a moment ago, and that owner may still hold records it polled
  // but has not committed yet: it commits them (with their position) within
  // one commit interval even after losing the partition. Waiting that long
  // and then reading every position the group committed to the warehouse
  // usually makes the new owner start exactly after the old owner's last row.
  // It is an optimisation: when the old owner's commit lands later (or the
  // read below fails), both read the same records and the bronze writer's
  // offset fence (BronzeFence::kKafkaOffsets) lands each once. (A killed
  // owner's uncommitted records are simply read again: they were never in
  // the table.)
  // (Capped below librdkafka's max.poll.interval.ms, 300 s by default.)
  const auto settle = std::chrono::milliseconds(
      std::min<int64_t>(static_cast<int64_t>(config.commit_interval_s * 1000) + 1000, 240000));
  // The catalog may be briefly unreachable (a PostgreSQL restart): falling
  // back to this consumer's own, older positions would re-read what another
  // owner committed (only for the fence to drop it again), so the read is
  // retried for a bounded time first.
  ko.refresh_positions = [config, settle]() -> Result<std::string> {
    std::this_thread::sleep_for(settle);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    Result<std::string> positions = CommittedKafkaPositions(config);
    while (!positions.ok() && std::chrono::steady_clock::now() < deadline) {
      log::Warn("kafka", "cannot read the committed positions yet, retrying: {}", positions.status().ToString());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      positions = CommittedKafkaPositions(config);
    }
    return positions;
  };
  WS_ASSIGN_OR_RETURN(auto src, KafkaSource::Open(ko));
  return std::unique_ptr<Source>(std::move(src));
}

}  // namespace ws::runtime
