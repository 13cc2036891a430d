// The `wikistream` command line (README.md, "Commands").
//
// Contract: Main() parses argv, runs one subcommand and returns the process
// exit code: 0 on success, 1 when the work failed (a gate, a stage), 2 for a
// usage error (bad flag, unreadable file). User errors print one line to
// stderr; no exception escapes.
#pragma once

namespace ws::app {

int Main(int argc, char** argv);

}  // namespace ws::app
