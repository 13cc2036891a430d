// Random (version 4) UUIDs, used for commit ids, run ids, file names.
#pragma once

#include <string>

namespace ws {

std::string NewUuid();  // "3f2b8c9e-...", lower-case, 36 characters; thread-safe

}  // namespace ws
