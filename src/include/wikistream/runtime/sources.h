// Opening the configured source, finding where it resumes, and the ingest
// session built on it.
//
// Contract: OpenSource() turns `--source` into a Source, failing with
// InvalidArgument for a malformed spec or an unreadable replay file (a usage
// error: exit 2) and Unavailable for an unreachable broker (exit 1). A Kafka
// source re-reads, after each rebalance, every position its group committed
// to bronze. ResumePositionFor gives a fresh source its start: Kafka
// consumers of one group merge every position their group ever committed
// (each consumer writes only its own partitions); other sources take the
// writer's last committed position. OpenIngestSession() puts a source, its
// bronze writer and the ingest loop together at that position: one ingest
// "life", which a supervisor replaces with a fresh one after a failure.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/ingest/bronze_writer.h"
#include "wikistream/ingest/ingest_loop.h"
#include "wikistream/model/region.h"
#include "wikistream/model/source_kind.h"
#include "wikistream/runtime/config.h"
#include "wikistream/source/source.h"

namespace ws::runtime {

struct SourceSpec {
  model::SourceKind kind = model::SourceKind::kEventStreams;
  std::string path;  // replay
  int64_t count = -1;  // synthetic: -1 endless
};
Result<SourceSpec> ParseSourceSpec(const std::string& spec);
// Where bronze keeps this source's position (`wikistream.source.<name>`): the
// kind, and for a replay also the file's name, so several captures can be
// backfilled into one warehouse (in any order, each exactly once).
std::string PositionName(const SourceSpec& spec);
Result<std::unique_ptr<source::Source>> OpenSource(const Config& config);

// The positions a Kafka group committed (oldest first), merged per partition
// into one position.
Result<std::string> MergeCommittedKafkaPositions(const std::vector<std::string>& committed);
Result<std::string> ResumePositionFor(const source::Source& source, const ingest::BronzeWriter& writer);

// --domains as a filter ("default", "all" or a list); InvalidArgument names the bad domain.
Result<model::DomainFilter> TargetDomains(const Config& config);
// The ingest loop's settings from the configuration (commit interval and
// size, worker threads, pipelined commits with a second core, domains).
ingest::IngestLoopOptions IngestLoopOptionsFor(const Config& config, const model::DomainFilter& domains);

struct IngestSession {
  std::unique_ptr<source::Source> source;
  std::unique_ptr<ingest::BronzeWriter> writer;
  std::unique_ptr<ingest::IngestLoop> loop;
};
// Opens the bronze writer of `position_name` (fenced unless the source is
// Kafka), resumes `source` at the committed position and builds the loop.
Result<std::unique_ptr<IngestSession>> OpenIngestSession(std::unique_ptr<source::Source> source,
                                                         warehouse::Warehouse* warehouse,
                                                         const std::string& position_name,
                                                         ingest::IngestLoopOptions options);

}  // namespace ws::runtime
