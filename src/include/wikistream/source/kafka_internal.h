// Helpers shared by the Kafka sink and source implementations; not an API.
#pragma once

#include <chrono>
#include <string>

#include "wikistream/common/status.h"

namespace RdKafka {
class Conf;
class Handle;
}  // namespace RdKafka

namespace ws::source::kafka_internal {

Status SetConf(RdKafka::Conf* conf, const std::string& key, const std::string& value);
// Asks for cluster metadata: Unavailable if no broker answers within `timeout`.
Status CheckBrokers(RdKafka::Handle* handle, const std::string& brokers, std::chrono::milliseconds timeout);

}  // namespace ws::source::kafka_internal
