// The machinery every enum of the model shares: one table of names per enum,
// in enumerator order, from which Name() and Parse...() are made, and the
// JSON conversion that writes the name (so an enum put into a JSON document
// reads exactly as the string it replaced).
//
// Contract: a names table lists every enumerator once, in declaration order,
// with the exact text written to tables and APIs; NameIn and ParseIn are
// inverse on those texts and ParseIn returns nullopt for any other text
// (comparison is exact: case and spaces matter).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ws::model {

template <class E, size_t N>
constexpr std::string_view NameIn(const std::array<std::string_view, N>& names, E value) {
  return names[static_cast<size_t>(value)];
}

template <class E, size_t N>
constexpr std::optional<E> ParseIn(const std::array<std::string_view, N>& names, std::string_view text) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<E>(i);
  }
  return std::nullopt;
}

}  // namespace ws::model

// nlohmann::json finds to_json by argument-dependent lookup; a template on
// the JSON type keeps nlohmann out of the model's headers.
#define WS_MODEL_ENUM_TO_JSON(E)                               \
  template <class Json>                                        \
  void to_json(Json& j, E value) {                             \
    j = std::string(Name(value));                              \
  }
