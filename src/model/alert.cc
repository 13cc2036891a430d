#include "wikistream/model/alert.h"

namespace ws::model {

std::string RiskAlertKey(const std::string& date, const std::string& user) {
  return "risk|" + date + "|" + user;
}

}  // namespace ws::model
