// Opening the configured source and finding where it resumes.
//
// Contract: OpenSource() turns `--source` into a Source, failing with
// InvalidArgument for a malformed spec or an unreadable replay file (a usage
// error: exit 2) and Unavailable for an unreachable broker (exit 1). A Kafka
// source re-reads, after each rebalance, every position its group committed
// to bronze. ResumePositionFor gives a fresh source its start: Kafka
// consumers of one group merge every position their group ever committed
// (each consumer writes only its own partitions); other sources take the
// writer's last committed position.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wikistream/common/result.h"
#include "wikistream/ingest/bronze_writer.h"
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
Result<std::unique_ptr<source::Source>> OpenSource(const Config& config);

// The positions a Kafka group committed (oldest first), merged per partition
// into one position.
Result<std::string> MergeCommittedKafkaPositions(const std::vector<std::string>& committed);
Result<std::string> ResumePositionFor(const source::Source& source, const ingest::BronzeWriter& writer);

}  // namespace ws::runtime
