// The installed binary is self-contained: `cmake --install` into a fresh
// prefix, then `serve` run from an empty directory, with no web/ anywhere
// near it, serves the dashboard and every script and stylesheet it links
// (the chart library included) with 200.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "testing/child_processes.h"
#include "testing/test_util.h"

namespace ws::app {
namespace {

using ws::testing::BuildDir;
using ws::testing::RunCommand;
using ws::testing::TempDir;

// The relative links of a page or module: src=/href= and ES imports.
std::set<std::string> Links(const std::string& base, const std::string& text) {
  static const std::regex kAttr(R"re((?:src|href)="(/[^"#]*)")re");
  static const std::regex kImport(R"re(from\s+'([^']+)')re");
  std::set<std::string> out;
  for (std::sregex_iterator it(text.begin(), text.end(), kAttr), end; it != end; ++it) out.insert((*it)[1]);
  for (std::sregex_iterator it(text.begin(), text.end(), kImport), end; it != end; ++it) {
    // Resolve ./x and ../x against the module's folder.
    std::filesystem::path p = std::filesystem::path(base).parent_path() / (*it)[1].str();
    out.insert(p.lexically_normal().string());
  }
  return out;
}

TEST(InstallTest, TheInstalledBinaryServesTheWholeDashboardFromAnEmptyDirectory) {
  TempDir dir;
  const std::string prefix = dir.str() + "/prefix";
  std::string out;
  ASSERT_EQ(RunCommand("cmake --install " + BuildDir().string() + " --prefix " + prefix, &out), 0) << out;
  const std::string bin = prefix + "/bin/wikistream";
  ASSERT_TRUE(std::filesystem::exists(bin));
  EXPECT_TRUE(std::filesystem::exists(prefix + "/share/doc/wikistream/serving.md"));
  EXPECT_TRUE(std::filesystem::exists(prefix + "/lib/systemd/system/wikistream.service"));
  EXPECT_FALSE(std::filesystem::exists(prefix + "/share/wikistream/web"));

  // A small warehouse to serve, made by the installed binary itself.
  ASSERT_EQ(RunCommand("cd " + dir.str() + " && " + bin + " generate 500 --seed 3 > events.ndjson && " + bin +
                           " run --once --log-level error --source replay:events.ndjson --warehouse wh",
                       &out),
            0)
      << out;

  const std::string empty = dir.str() + "/empty";
  std::filesystem::create_directories(empty);
  const std::string log = dir.str() + "/serve.log";
  ws::testing::Children children;
  const pid_t pid = children.Start({"-c", "cd " + empty + " && exec " + bin + " serve --warehouse " + dir.str() +
                                                  "/wh --http 127.0.0.1:0 --log-level info"},
                                   log, "/bin/sh");
  ASSERT_GT(pid, 0);
  std::optional<int> port;
  ws::testing::WaitFor(
      [&] {
        std::smatch m;
        const std::string text = ws::testing::ReadLog(log);
        if (std::regex_search(text, m, std::regex(R"(serving on http://127\.0\.0\.1:(\d+))"))) port = std::stoi(m[1]);
        return port.has_value();
      },
      std::chrono::seconds(30), std::chrono::milliseconds(50));
  ASSERT_TRUE(port) << ws::testing::ReadLog(log);

  httplib::Client c("127.0.0.1", *port);
  auto index = c.Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  std::set<std::string> todo = Links("/index.html", index->body), done;
  EXPECT_TRUE(todo.count("/assets/chart.umd.js"));
  EXPECT_TRUE(todo.count("/js/main.js"));
  EXPECT_TRUE(todo.count("/style.css"));
  while (!todo.empty()) {
    const std::string path = *todo.begin();
    todo.erase(todo.begin());
    if (!done.insert(path).second || path.rfind("/api/", 0) == 0 || path == "/metrics" || path == "/healthz") continue;
    auto res = c.Get(path.c_str());
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_FALSE(res->get_header_value("ETag").empty()) << path;
    if (path.size() > 3 && path.substr(path.size() - 3) == ".js") {
      EXPECT_EQ(res->get_header_value("Content-Type"), "text/javascript; charset=utf-8") << path;
      for (const std::string& link : Links(path, res->body)) todo.insert(link);
    }
  }
  EXPECT_GE(done.size(), 10u);  // index's links, every page module, the chart library
  // Revalidation: the ETag answers 304.
  auto js = c.Get("/js/main.js");
  ASSERT_TRUE(js);
  auto again = c.Get("/js/main.js", httplib::Headers{{"If-None-Match", js->get_header_value("ETag")}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  kill(pid, SIGTERM);
  EXPECT_EQ(children.Wait(pid, std::chrono::seconds(30)), 0) << ws::testing::ReadLog(log);
}

}  // namespace
}  // namespace ws::app
