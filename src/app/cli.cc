#include "wikistream/app/cli.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "wikistream/app/commands.h"
#include "wikistream/common/logging.h"
#include "wikistream/common/result.h"
#include "wikistream/common/status.h"
#include "wikistream/runtime/config.h"
#include "wikistream/source/kafka.h"

namespace ws::app {

using runtime::Config;
using source::CheckKafkaProperty;

namespace {

// One settable option: its long name (also its config-file key and, upper-cased
// with WIKISTREAM_ in front, its environment variable), its help text and the
// Config field it sets. Declared once so flags, env and config file agree.
struct OptionSpec {
  const char* name;
  const char* help;
  std::variant<std::string Config::*, double Config::*, int64_t Config::*, int Config::*, bool Config::*,
               uint64_t Config::*>
      field;
};

const std::vector<OptionSpec>& AllOptions() {
  static const std::vector<OptionSpec> kOptions = {
      {"source", "eventstreams | replay:PATH | synthetic[:N] | kafka://BROKERS[/TOPIC]", &Config::source},
      {"warehouse", "Warehouse directory (catalog.db + Iceberg tables)", &Config::warehouse},
      {"catalog", "Catalog: sqlite:PATH or postgresql://USER[:PASS]@HOST[:PORT]/DB (default: WAREHOUSE/catalog.db)",
       &Config::catalog},
      {"catalog-name", "The catalog's name (catalog_name column; engines attach with it); one database can hold several",
       &Config::catalog_name},
      {"http", "HTTP listen address host:port; port 0 picks a free port; 'off' disables. Default: 127.0.0.1:8080 "
               "(run, serve), :8081 (produce), :8082 (bronze), :8083 (batch --every)",
       &Config::http},
      {"http-transport", "HTTP transport: beast (event-driven) | httplib (a thread per connection)",
       &Config::http_transport},
      {"speed", "Replay pacing by meta.dt: N x real time; 0 = as fast as possible", &Config::speed},
      {"eventstreams-url", "EventStreams recentchange endpoint", &Config::eventstreams_url},
      {"contact", "Contact (URL or e-mail) sent in the User-Agent, required by Wikimedia", &Config::contact},
      {"since", "ISO-8601 time to start from on a first EventStreams connection", &Config::since},
      {"commit-interval", "Seconds between bronze commits", &Config::commit_interval_s},
      {"commit-max-events", "Commit bronze early once this many events are buffered", &Config::commit_max_events},
      {"batch-interval", "Seconds between silver/DQ/gold cycles", &Config::batch_interval_s},
      {"every", "Run a cycle every SECONDS (from the end of the previous one) until stopped, serving /metrics, "
                "/healthz and /readyz on --http; 0 = one cycle and exit",
       &Config::batch_every_s},
      {"maintain-every", "Seconds between warehouse maintenance runs of `run` and `batch --every` (after a cycle); "
                         "0 = never",
       &Config::maintain_every_s},
      {"snapshot-retention", "Maintenance expires snapshots older than SECONDS...", &Config::snapshot_retention_s},
      {"retain-snapshots", "...but keeps the newest N snapshots of every table", &Config::retain_snapshots},
      {"compact-min-files", "Maintenance compacts a partition holding at least N data files...",
       &Config::compact_min_files},
      {"compact-small-file-mb", "...whose files average at most this many MiB", &Config::compact_small_file_mb},
      {"domains", "Target wikis: 'default' (18 Wikipedias), 'all', or a comma-separated list", &Config::domains},
      {"alert-webhook", "URL alerts are POSTed to as JSON", &Config::alert_webhook},
      {"admin-token", "Bearer token for POST /api/admin/*; admin endpoints are disabled without one",
       &Config::admin_token},
      {"kafka", "Kafka bootstrap brokers (host:port,...)", &Config::kafka_brokers},
      {"kafka-group", "Kafka consumer group of the bronze consumers", &Config::kafka_group},
      {"position-file", "Where `produce` keeps the source position of what Kafka has acknowledged",
       &Config::position_file},
      {"threads", "Worker threads; 0 = number of cores", &Config::threads},
      {"seed", "Seed of the synthetic generator", &Config::seed},
      {"log-level", "debug | info | warn | error | off", &Config::log_level},
      {"web-root", "Directory of the dashboard's static files", &Config::web_root},
      {"stage-timeout", "Seconds a batch stage may run before it is failed", &Config::stage_timeout_s},
      {"stage-attempts", "Attempts per batch stage (with backoff) before the cycle fails", &Config::stage_attempts},
      {"once", "Consume the source to its end (replay/synthetic), commit, run one batch cycle and exit",
       &Config::once},
  };
  return kOptions;
}

std::string EnvName(const char* option) {
  std::string env = "WIKISTREAM_";
  for (const char* p = option; *p; ++p) env += *p == '-' ? '_' : static_cast<char>(std::toupper(*p));
  return env;
}

const OptionSpec* FindOption(const std::string& name) {
  for (const auto& o : AllOptions()) {
    if (name == o.name) return &o;
  }
  return nullptr;
}

bool AssignFromText(Config* config, const OptionSpec& spec, const std::string& text, std::string* error) {
  try {
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(config->*member)>;
          if constexpr (std::is_same_v<T, std::string>) {
            config->*member = text;
          } else if constexpr (std::is_same_v<T, bool>) {
            if (text == "true" || text == "1" || text == "yes") config->*member = true;
            else if (text == "false" || text == "0" || text == "no") config->*member = false;
            else throw std::invalid_argument("not a boolean");
          } else if constexpr (std::is_same_v<T, double>) {
            size_t used = 0;
            double v = std::stod(text, &used);
            if (used != text.size()) throw std::invalid_argument("not a number");
            config->*member = v;
          } else {
            size_t used = 0;
            long long v = std::stoll(text, &used);
            if (used != text.size()) throw std::invalid_argument("not an integer");
            config->*member = static_cast<T>(v);
          }
        },
        spec.field);
  } catch (const std::exception&) {
    *error = fmt::format("invalid value '{}' for {}", text, spec.name);
    return false;
  }
  return true;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

constexpr const char* kKafkaPropertyOption = "kafka-property";

// One `--kafka-property` value and where it was given (for the error message).
struct KafkaPropertyText {
  std::string origin;  // "--kafka-property", "WIKISTREAM_KAFKA_PROPERTY", "FILE:LINE"
  std::string text;    // KEY=VALUE
};

// Properties WikiStream sets itself because exactly-once depends on them (or
// that have their own option); letting a property override them would
// silently break the contract, so it is a usage error.
const std::map<std::string, std::string>& ReservedKafkaProperties() {
  static const std::map<std::string, std::string> kReserved = {
      {"bootstrap.servers", "use --kafka or --source kafka://BROKERS"},
      {"metadata.broker.list", "use --kafka or --source kafka://BROKERS"},
      {"group.id", "use --kafka-group"},
      {"enable.idempotence", "the producer must be idempotent"},
      {"acks", "the producer needs acks=all"},
      {"enable.auto.commit", "positions are committed with the rows, not by Kafka"},
      {"enable.auto.offset.store", "positions are committed with the rows, not by Kafka"},
      {"auto.offset.reset", "a partition without a committed position must start at its beginning"},
      {"isolation.level", "consumers read committed records only"},
  };
  return kReserved;
}

// KEY=VALUE -> (KEY, VALUE), checked against librdkafka's own property table
// so an unknown name or a bad value is a usage error before any connection.
Status ParseKafkaProperty(const KafkaPropertyText& p, std::pair<std::string, std::string>* out) {
  const size_t eq = p.text.find('=');
  const std::string key = eq == std::string::npos ? "" : Trim(p.text.substr(0, eq));
  if (key.empty()) {
    return Status::InvalidArgument(
        fmt::format("{}: expected KEY=VALUE (a librdkafka property), got '{}'", p.origin, p.text));
  }
  const std::string value = p.text.substr(eq + 1);
  if (auto it = ReservedKafkaProperties().find(key); it != ReservedKafkaProperties().end()) {
    return Status::InvalidArgument(
        fmt::format("{}: {} is set by wikistream and cannot be overridden ({})", p.origin, key, it->second));
  }
  if (Status s = CheckKafkaProperty(key, value); !s.ok()) {
    return Status::InvalidArgument(fmt::format("{}: {}", p.origin, s.message()));
  }
  *out = {key, value};
  return Status::OK();
}

// Later entries win per key: callers pass config-file, then environment,
// then command-line entries (the precedence of every other option).
Result<std::map<std::string, std::string>> ParseKafkaProperties(const std::vector<KafkaPropertyText>& texts) {
  std::map<std::string, std::string> props;
  for (const auto& t : texts) {
    std::pair<std::string, std::string> kv;
    WS_RETURN_IF_ERROR(ParseKafkaProperty(t, &kv));
    props[kv.first] = kv.second;
  }
  return props;
}

// WIKISTREAM_KAFKA_PROPERTY holds one or more KEY=VALUE separated by ';'.
std::vector<KafkaPropertyText> KafkaPropertiesFromEnvironment() {
  std::vector<KafkaPropertyText> out;
  const std::string name = EnvName(kKafkaPropertyOption);
  const char* env = std::getenv(name.c_str());
  if (!env) return out;
  std::string all = env;
  size_t start = 0;
  while (start <= all.size()) {
    size_t end = all.find(';', start);
    if (end == std::string::npos) end = all.size();
    std::string item = Trim(all.substr(start, end - start));
    if (!item.empty()) out.push_back({name, item});
    start = end + 1;
  }
  return out;
}

// Reads `key = value` lines ('#' and ';' comments, [sections] ignored, quotes stripped).
// `kafka-property = KEY=VALUE` may repeat; those lines go to *kafka_properties.
bool ApplyConfigFile(const std::string& path, Config* config, std::vector<KafkaPropertyText>* kafka_properties,
                     std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = fmt::format("cannot read config file {}", path);
    return false;
  }
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      *error = fmt::format("{}:{}: expected key = value", path, lineno);
      return false;
    }
    std::string key = Trim(line.substr(0, eq));
    std::string value = Trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    for (char& c : key) if (c == '_') c = '-';
    if (key == kKafkaPropertyOption) {
      kafka_properties->push_back({fmt::format("{}:{}", path, lineno), value});
      continue;
    }
    const OptionSpec* spec = FindOption(key);
    if (!spec) {
      *error = fmt::format("{}:{}: unknown key '{}'", path, lineno, key);
      return false;
    }
    if (!AssignFromText(config, *spec, value, error)) {
      *error = fmt::format("{}:{}: {}", path, lineno, *error);
      return false;
    }
  }
  return true;
}

// --config FILE may appear anywhere; WIKISTREAM_CONFIG names a default file.
std::string FindConfigPath(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) return argv[i + 1];
    if (a.rfind("--config=", 0) == 0) return a.substr(9);
  }
  const char* env = std::getenv("WIKISTREAM_CONFIG");
  return env ? env : "";
}

// A bool option is a flag (`--once`); its environment variable and config
// key take true/false, 1/0, yes/no.
void AddOptions(CLI::App* cmd, Config* config, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const OptionSpec* spec = FindOption(name);
    std::visit(
        [&](auto member) {
          using T = std::decay_t<decltype(config->*member)>;
          const std::string flag = fmt::format("--{}", spec->name);
          if constexpr (std::is_same_v<T, bool>) {
            cmd->add_flag(flag, config->*member, spec->help)->envname(EnvName(spec->name));
          } else {
            cmd->add_option(flag, config->*member, spec->help)->envname(EnvName(spec->name))->capture_default_str();
          }
        },
        spec->field);
  }
}

Status Validate(const Config& c) {
  if (c.commit_interval_s <= 0) return Status::InvalidArgument("--commit-interval must be positive");
  if (c.batch_interval_s <= 0) return Status::InvalidArgument("--batch-interval must be positive");
  if (c.batch_every_s < 0) return Status::InvalidArgument("--every must be 0 or positive");
  if (c.maintain_every_s < 0) return Status::InvalidArgument("--maintain-every must be 0 or positive");
  if (c.snapshot_retention_s < 0) return Status::InvalidArgument("--snapshot-retention must be 0 or positive");
  if (c.retain_snapshots < 1) return Status::InvalidArgument("--retain-snapshots must be at least 1");
  if (c.compact_min_files < 2) return Status::InvalidArgument("--compact-min-files must be at least 2");
  if (c.compact_small_file_mb <= 0) return Status::InvalidArgument("--compact-small-file-mb must be positive");
  if (c.commit_max_events <= 0) return Status::InvalidArgument("--commit-max-events must be positive");
  if (c.speed < 0) return Status::InvalidArgument("--speed must be 0 or positive");
  if (c.threads < 0) return Status::InvalidArgument("--threads must be 0 or positive");
  if (c.stage_attempts < 1) return Status::InvalidArgument("--stage-attempts must be at least 1");
  if (c.stage_timeout_s <= 0) return Status::InvalidArgument("--stage-timeout must be positive");
  if (c.warehouse.empty()) return Status::InvalidArgument("--warehouse must not be empty");
  // The column is VARCHAR(255) in Iceberg's JDBC catalog schema.
  if (c.catalog_name.empty() || c.catalog_name.size() > 255) {
    return Status::InvalidArgument("--catalog-name must be 1 to 255 characters");
  }
  log::Level level;
  if (!log::ParseLevel(c.log_level, &level)) {
    return Status::InvalidArgument(fmt::format("--log-level: unknown level '{}'", c.log_level));
  }
  return Status::OK();
}

}  // namespace

int Main(int argc, char** argv) {
  Config config;
  std::string error;
  std::string config_path = FindConfigPath(argc, argv);
  std::vector<KafkaPropertyText> file_kafka_properties;
  if (!config_path.empty() && !ApplyConfigFile(config_path, &config, &file_kafka_properties, &error)) {
    std::fprintf(stderr, "wikistream: %s\n", error.c_str());
    return 2;
  }

  CLI::App app{"WikiStream: real-time Wikipedia edit analytics (EventStreams -> Iceberg bronze/silver/gold -> dashboard)",
               "wikistream"};
  app.require_subcommand(1);
  app.fallthrough();  // --config is accepted after the subcommand too
  app.set_version_flag("--version", std::string("wikistream ") + WIKISTREAM_VERSION);
  app.add_option("--config", config_path,
                 "Config file of `key = value` lines (keys are long option names). Precedence: "
                 "flag > environment (WIKISTREAM_<OPTION>) > config file > default")
      ->envname("WIKISTREAM_CONFIG");
  app.footer("Every option can also be set by the environment variable WIKISTREAM_<OPTION> "
             "(e.g. WIKISTREAM_WAREHOUSE) or a config-file key.");

  std::vector<std::string> flag_kafka_properties;
  auto add_kafka_property = [&](CLI::App* cmd) {
    cmd->add_option(fmt::format("--{}", kKafkaPropertyOption), flag_kafka_properties,
                    "librdkafka property for the Kafka client, e.g. session.timeout.ms=6000 (repeatable; "
                    "environment WIKISTREAM_KAFKA_PROPERTY='K=V;K=V', config-file key kafka-property, "
                    "one per line)")
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
  };

  auto* run = app.add_subcommand("run", "Everything in one process: source -> bronze -> silver -> DQ -> gold, "
                                        "live dashboard and API");
  AddOptions(run, &config, {"source", "warehouse", "catalog", "catalog-name", "http", "http-transport", "speed", "eventstreams-url", "contact", "since",
                            "commit-interval", "commit-max-events", "batch-interval", "domains", "alert-webhook",
                            "admin-token", "kafka-group", "threads", "seed", "log-level", "web-root",
                            "stage-timeout", "stage-attempts", "once", "maintain-every", "snapshot-retention",
                            "retain-snapshots", "compact-min-files", "compact-small-file-mb"});
  add_kafka_property(run);

  auto* produce = app.add_subcommand("produce", "Source -> Kafka topics raw-events / dlq-events");
  // No --domains: the producer forwards every payload as received; the
  // bronze consumers apply the ingest rules, the domain filter included.
  AddOptions(produce, &config, {"kafka", "source", "http", "http-transport", "speed", "eventstreams-url", "contact", "since", "seed",
                                "log-level", "position-file"});
  add_kafka_property(produce);
  produce->add_flag("--once", config.once, "Stop at the end of a finite source (produce always does)")
      ->envname(EnvName("once"));

  auto* bronze = app.add_subcommand("bronze", "One bronze consumer of a Kafka consumer group -> bronze tables");
  AddOptions(bronze, &config, {"source", "warehouse", "catalog", "catalog-name", "commit-interval", "commit-max-events", "domains",
                               "kafka-group", "http", "http-transport", "log-level"});
  add_kafka_property(bronze);

  auto* batch = app.add_subcommand("batch", "One silver -> DQ -> gold cycle; exit 1 if a gate or stage failed");
  AddOptions(batch, &config, {"warehouse", "catalog", "catalog-name", "alert-webhook", "threads", "log-level", "stage-timeout",
                              "stage-attempts", "every", "http", "http-transport", "maintain-every", "snapshot-retention", "retain-snapshots",
                              "compact-min-files", "compact-small-file-mb"});
  CLI::App* single_stages[3];
  const char* stage_names[3] = {"silver", "dq", "gold"};
  const char* stage_help[3] = {"Run the silver stage only (bronze -> silver.cleaned_events, with its gate)",
                               "Re-audit the latest date: its gold recomputed from silver, the gold gate's checks (publishes nothing)",
                               "Run the gold stage only (silver -> gold tables, with its gate)"};
  for (int i = 0; i < 3; ++i) {
    single_stages[i] = app.add_subcommand(stage_names[i], stage_help[i]);
    AddOptions(single_stages[i], &config, {"warehouse", "catalog", "catalog-name", "alert-webhook", "log-level", "stage-timeout"});
  }

  // serve runs a cycle only when asked (POST /api/admin/batch); scheduled
  // cycles come from `run` or from `batch` under a scheduler.
  auto* serve = app.add_subcommand("serve", "Dashboard and API over an existing warehouse");
  AddOptions(serve, &config, {"warehouse", "catalog", "catalog-name", "http", "http-transport", "admin-token", "alert-webhook", "threads", "log-level",
                              "web-root", "stage-timeout", "stage-attempts", "snapshot-retention", "retain-snapshots",
                              "compact-min-files", "compact-small-file-mb"});

  auto* tables = app.add_subcommand("tables", "List the warehouse's tables");
  AddOptions(tables, &config, {"warehouse", "catalog", "catalog-name", "log-level"});

  std::string table_name;
  auto* snapshots = app.add_subcommand("snapshots", "List the snapshots of one table (namespace.table)");
  snapshots->add_option("table", table_name, "Table name, e.g. bronze.raw_events")->required();
  AddOptions(snapshots, &config, {"warehouse", "catalog", "catalog-name", "log-level"});

  auto* maintain = app.add_subcommand("maintain", "Compact small files, expire old snapshots, delete orphan files");
  AddOptions(maintain, &config, {"warehouse", "catalog", "catalog-name", "log-level", "snapshot-retention",
                                 "retain-snapshots", "compact-min-files", "compact-small-file-mb"});

  int64_t count = 0;
  auto* generate = app.add_subcommand("generate", "Write N synthetic recentchange events as NDJSON to stdout");
  generate->add_option("count", count, "Number of events")->required()->check(CLI::NonNegativeNumber);
  AddOptions(generate, &config, {"seed", "log-level"});

  // CLI11 applies environment values to every subcommand without a
  // parse-complete callback, parsed or not, and all subcommands share
  // `config`: an unused subcommand's WIKISTREAM_<OPTION> would overwrite the
  // flag given to the one that runs. The callback limits that to the parsed one.
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) sub->parse_complete_callback([] {});

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    std::fprintf(stderr, "wikistream: %s (see wikistream --help)\n", what.c_str());
    return 2;
  }

  auto http_flag = [](CLI::App* cmd) { return cmd->parsed() && cmd->get_option("--http")->count() > 0; };
  config.http_given = std::getenv("WIKISTREAM_HTTP") != nullptr || config.http != Config().http ||
                      http_flag(run) || http_flag(produce) || http_flag(bronze) || http_flag(batch);
  // Each role that is not the dashboard has its own default port.
  if (!config.http_given) {
    if (produce->parsed()) config.http = runtime::kProduceHttp;
    if (bronze->parsed()) config.http = runtime::kBronzeHttp;
    if (batch->parsed()) config.http = runtime::kBatchHttp;
  }
  if (run->parsed() || produce->parsed() || bronze->parsed()) {
    std::vector<KafkaPropertyText> texts = file_kafka_properties;
    for (auto& t : KafkaPropertiesFromEnvironment()) texts.push_back(std::move(t));
    for (const auto& f : flag_kafka_properties) texts.push_back({"--kafka-property", f});
    auto props = ParseKafkaProperties(texts);
    if (!props.ok()) {
      std::fprintf(stderr, "wikistream: %s\n", props.status().message().c_str());
      return 2;
    }
    config.kafka_properties = std::move(props).value();
  }
  if (Status s = Validate(config); !s.ok()) {
    std::fprintf(stderr, "wikistream: %s\n", s.message().c_str());
    return 2;
  }
  log::Level level;
  log::ParseLevel(config.log_level, &level);
  log::SetLevel(level);

  try {
    if (run->parsed()) return RunPipeline(config);
    if (produce->parsed()) return RunProduce(config);
    if (bronze->parsed()) return RunBronzeConsumer(config);
    if (batch->parsed()) return RunBatch(config, "all");
    for (int i = 0; i < 3; ++i) {
      if (single_stages[i]->parsed()) return RunBatch(config, stage_names[i]);
    }
    if (serve->parsed()) return RunServe(config);
    if (tables->parsed()) return RunTables(config);
    if (snapshots->parsed()) return RunSnapshots(config, table_name);
    if (maintain->parsed()) return RunMaintain(config);
    if (generate->parsed()) return RunGenerate(config, count);
  } catch (const std::exception& e) {
    // Only bugs and start-up failures throw; still one line, never a trace.
    std::fprintf(stderr, "wikistream: internal error: %s\n", e.what());
    return 1;
  }
  return 2;
}

}  // namespace ws::app
