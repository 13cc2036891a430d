// The scaled-out commit path against a slow object store: `wikistream run
// --once` of the same replay into an S3 bucket (s3rver) with a PostgreSQL
// catalog, through the tests' FaultProxy adding DELAY_MS to every S3
// request, against the same run without the delay (and a local-disk run for
// scale). Reports the ingest seconds (bronze: parse + commit path) and the
// batch seconds from the run's report line, the S3 requests, and the
// delay's overhead. Target (issue #16): ingest with 20 ms per request costs
// less than 20% over no delay, because uploads overlap with parsing.
//
// Usage: build/bench/ws_scaleout_bench [EVENTS=1000000] [DELAY_MS=20] [COMMIT_INTERVAL_S=10]
// Needs the same parts as the tests: npm s3rver (npm ci) and Debian's PostgreSQL.
#include <gtest/gtest.h>  // postgres_server.h reports with ADD_FAILURE

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

#include "testing/fault_proxy.h"
#include "testing/postgres_server.h"
#include "testing/s3_server.h"
#include "testing/test_util.h"

using ws::testing::FaultProxy;
using ws::testing::PostgresServer;
using ws::testing::RunCommand;
using ws::testing::S3Server;
using ws::testing::TempDir;
using ws::testing::WikistreamBinary;

namespace {

struct RunResult {
  bool ok = false;
  double wall_s = 0, ingest_s = 0, batch_s = 0;
  int64_t requests = 0;
  std::string output;
};

double Field(const std::string& text, const char* name) {
  std::smatch m;
  if (std::regex_search(text, m, std::regex(std::string(name) + " ([0-9.]+)"))) return std::stod(m[1].str());
  return -1;
}

RunResult Run(const std::string& env, const std::string& args, FaultProxy* proxy) {
  RunResult r;
  const int64_t before = proxy ? proxy->requests() : 0;
  const auto start = std::chrono::steady_clock::now();
  r.ok = RunCommand(env + WikistreamBinary().string() + " run --once --log-level error " + args, &r.output) == 0;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.ingest_s = Field(r.output, "ingest");
  r.batch_s = Field(r.output, "batch total");
  r.requests = proxy ? proxy->requests() - before : 0;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const long events = argc > 1 ? std::atol(argv[1]) : 1'000'000;
  const int delay_ms = argc > 2 ? std::atoi(argv[2]) : 20;
  const std::string commit_interval = argc > 3 ? argv[3] : "10";
  TempDir dir;
  const std::string input = dir.str() + "/events.ndjson";
  std::string out;
  if (RunCommand(WikistreamBinary().string() + " generate " + std::to_string(events) + " --seed 7 > " + input, &out) !=
      0) {
    std::fprintf(stderr, "generate failed: %s\n", out.c_str());
    return 1;
  }
  S3Server s3;
  if (!s3.ok()) {
    std::fprintf(stderr, "s3rver: %s\n", s3.error().c_str());
    return 1;
  }
  FaultProxy proxy(s3.port());
  PostgresServer pg;
  std::string err;
  if (!pg.Start(&err)) {
    std::fprintf(stderr, "PostgreSQL: %s\n", err.c_str());
    return 1;
  }
  const std::string env = std::string("AWS_ACCESS_KEY_ID=") + S3Server::kAccessKey +
                          " AWS_SECRET_ACCESS_KEY=" + S3Server::kSecretKey +
                          " AWS_REGION=us-east-1 AWS_ENDPOINT_URL_S3=" + proxy.endpoint() + " ";
  const std::string common = "--source replay:" + input + " --commit-interval " + commit_interval + " ";

  std::printf("%ld events, commit interval %s s, %d ms added to every S3 request in the delayed run\n", events,
              commit_interval.c_str(), delay_ms);
  std::printf("%-28s %9s %9s %9s %10s\n", "run", "wall s", "ingest s", "batch s", "S3 reqs");
  auto print = [](const char* name, const RunResult& r) {
    std::printf("%-28s %9.2f %9.2f %9.2f %10lld%s\n", name, r.wall_s, r.ingest_s, r.batch_s,
                static_cast<long long>(r.requests), r.ok ? "" : "  FAILED");
    if (!r.ok) std::fprintf(stderr, "%s\n", r.output.c_str());
    // The run's own report: where its seconds went.
    if (size_t at = r.output.find("stage seconds:"); at != std::string::npos) {
      std::printf("    %s\n", r.output.substr(at, r.output.find('\n', at) - at).c_str());
    }
  };
  RunResult local = Run("", common + "--warehouse " + dir.str() + "/local", nullptr);
  print("local disk + SQLite", local);
  proxy.SetDelay(std::chrono::milliseconds(0));
  RunResult fast = Run(env, common + "--warehouse s3://lake/fast --catalog " + pg.NewDatabase("fast"), &proxy);
  print("S3 + PostgreSQL", fast);
  proxy.SetDelay(std::chrono::milliseconds(delay_ms));
  RunResult slow = Run(env, common + "--warehouse s3://lake/slow --catalog " + pg.NewDatabase("slow"), &proxy);
  const std::string name = "S3 (+" + std::to_string(delay_ms) + " ms) + PostgreSQL";
  print(name.c_str(), slow);
  if (!fast.ok || !slow.ok || !local.ok) return 1;
  std::printf("delay overhead: ingest %+.1f%%, wall %+.1f%% (target: ingest < +20%%)\n",
              100.0 * (slow.ingest_s - fast.ingest_s) / fast.ingest_s, 100.0 * (slow.wall_s - fast.wall_s) / fast.wall_s);
  return 0;
}
