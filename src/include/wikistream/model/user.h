// Who made an edit: the user-name rules of docs/tables.md (silver user_normalized,
// user_type) shared by silver, gold and the live path.
//
// Contract: pure functions, no I/O. The class names are the exact strings
// written to silver.cleaned_events.user_type and gold.*.user_type.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "wikistream/model/vocabulary.h"

namespace ws::model {

enum class UserType : uint8_t { kBot, kTemporary, kIp, kRegistered, kUnknown };

inline constexpr std::array<std::string_view, 5> kUserTypeNames = {"bot", "temporary", "ip", "registered", "unknown"};

constexpr std::string_view Name(UserType t) { return NameIn(kUserTypeNames, t); }
constexpr std::optional<UserType> ParseUserType(std::string_view s) { return ParseIn<UserType>(kUserTypeNames, s); }
WS_MODEL_ENUM_TO_JSON(UserType)

// Removes U+0000-U+001F and U+007F, trims leading/trailing spaces; nullopt if
// the input is absent or the result is empty.
std::optional<std::string> NormalizeUser(std::optional<std::string_view> user);
bool IsTemporaryAccountName(std::string_view name);  // ^~[0-9]{4}-[0-9]+(-[0-9]+)*$
bool IsIpv4(std::string_view name);                   // dotted quad, octets 0-255
bool IsIpv6(std::string_view name);                   // RFC 4291 text forms, incl. ::, embedded IPv4
// bot if is_bot; else temporary / ip / registered by the name; unknown if no name.
UserType ClassifyUser(bool is_bot, const std::optional<std::string>& user_normalized);
// The name's class ignoring is_bot: temporary / ip / registered (unknown if no name).
UserType ClassifyName(const std::optional<std::string>& user_normalized);

}  // namespace ws::model
