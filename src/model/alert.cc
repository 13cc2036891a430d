#include "wikistream/model/alert.h"

namespace ws::model {

std::string AlertKey(AlertKind kind, std::string_view entity, std::string_view date) {
  std::string key(Name(kind));
  key.reserve(key.size() + date.size() + entity.size() + 2);
  key += '|';
  key += date;
  key += '|';
  key += entity;
  return key;
}

}  // namespace ws::model
