// What the log of a `wikistream bronze` process (run with --log-level debug)
// says about it: the rows it committed and the Kafka partitions it holds.
// Tests use it to time kills and restarts against the consumer's progress.
#pragma once

#include <cstdint>
#include <regex>
#include <sstream>
#include <string>

#include "testing/child_processes.h"

namespace ws::testing {

// Rows the bronze process logging to `log` has committed so far (its debug
// line per commit).
inline int64_t CommittedRowsInLog(const std::string& log) {
  static const std::regex kCommitted("committed ([0-9]+) rows");
  std::string text = ReadLog(log);
  int64_t total = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kCommitted); it != std::sregex_iterator(); ++it) {
    total += std::stoll((*it)[1].str());
  }
  return total;
}

// Whether the log shows an assignment of some raw-events partition.
inline bool HoldsPartitions(const std::string& log) {
  // Consumers read dlq-events too: a raw-events partition may follow it.
  static const std::regex kAssigned(": assigned [^\n]*raw-events/");
  const std::string text = ReadLog(log);
  return std::regex_search(text, kAssigned);
}

// Whether the log shows an assignment of all three partitions.
inline bool AssignedAllPartitions(const std::string& log) {
  std::istringstream in(ReadLog(log));
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(": assigned ") == std::string::npos) continue;
    if (line.find("raw-events/0@") != std::string::npos && line.find("raw-events/1@") != std::string::npos &&
        line.find("raw-events/2@") != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace ws::testing
