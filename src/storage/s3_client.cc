#include "wikistream/storage/s3_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "s3_xml.h"
#include "wikistream/common/logging.h"

namespace ws::storage {

struct S3Client::Request {
  Request(std::string m, std::string b, std::string k)
      : method(std::move(m)), bucket(std::move(b)), key(std::move(k)) {}

  std::string method;  // GET HEAD PUT POST DELETE
  std::string bucket;
  std::string key;     // empty for bucket-level requests
  HeaderList query;
  HeaderList headers;  // extra headers, signed with the rest
  std::string_view body;
  bool error_in_200 = false;   // CompleteMultipartUpload and CopyObject may answer 200 with an <Error>
  size_t expected_bytes = 0;   // a ranged GET: the body must be exactly this long (0 = any)
};

struct S3Client::Response {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  int attempts = 0;
  bool maybe_applied_before = false;  // an earlier try may have reached the store and taken effect

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

namespace {

std::once_flag g_curl_init;

std::string EnvOr(const char* name, const char* fallback = "") {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : std::string(fallback);
}

std::string StripQuotes(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '"'), s.end());
  return s;
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) headers->clear();  // a new response (after 100 Continue, or a redirect)
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    (*headers)[name] = std::string(value);
  }
  return size * n;
}

struct UploadSource {
  std::string_view data;
  size_t pos = 0;
};

size_t ReadBody(char* dst, size_t size, size_t n, void* user) {
  auto* src = static_cast<UploadSource*>(user);
  size_t take = std::min(size * n, src->data.size() - src->pos);
  std::memcpy(dst, src->data.data() + src->pos, take);
  src->pos += take;
  return take;
}

// Lets curl resend a body itself (it does on a kept-alive connection that
// died before answering).
int SeekBody(void* user, curl_off_t offset, int origin) {
  auto* src = static_cast<UploadSource*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > src->data.size()) return CURL_SEEKFUNC_FAIL;
  src->pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// Transport failures worth another try: the store may be fine a moment later.
bool RetryableTransport(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_UPLOAD_FAILED:
    case CURLE_SEND_FAIL_REWIND:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

// The request never left this machine, so it cannot have taken effect.
bool NeverSent(CURLcode code) { return code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST; }

bool RetryableStatus(long status, std::string_view s3_code) {
  return status >= 500 || status == 429 || status == 408 || s3_code == "RequestTimeout" ||
         s3_code == "SlowDown" || s3_code == "InternalError" || s3_code == "ServiceUnavailable";
}

std::chrono::milliseconds Backoff(const RetryPolicy& p, int retry) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  double cap = static_cast<double>(p.base_delay.count()) * static_cast<double>(uint64_t{1} << std::min(retry, 30));
  cap = std::min(cap, static_cast<double>(p.max_delay.count()));
  std::uniform_real_distribution<double> jitter(0.0, cap);
  return std::chrono::milliseconds(static_cast<int64_t>(jitter(rng)));
}

}  // namespace

// --- options -----------------------------------------------------------------

Result<S3Options> S3Options::FromEnvironment() {
  S3Options o;
  o.credentials.access_key_id = EnvOr("AWS_ACCESS_KEY_ID");
  o.credentials.secret_access_key = EnvOr("AWS_SECRET_ACCESS_KEY");
  o.credentials.session_token = EnvOr("AWS_SESSION_TOKEN");
  if (o.credentials.access_key_id.empty() || o.credentials.secret_access_key.empty()) {
    return Status::InvalidArgument("no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
  }
  o.region = EnvOr("AWS_REGION", EnvOr("AWS_DEFAULT_REGION", "us-east-1").c_str());
  o.endpoint = EnvOr("AWS_ENDPOINT_URL_S3", EnvOr("AWS_ENDPOINT_URL").c_str());
  return o;
}

// --- client --------------------------------------------------------------------

S3Client::S3Client(S3Options options) : options_(std::move(options)) {}

S3Client::~S3Client() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

Result<std::unique_ptr<S3Client>> S3Client::Make(S3Options options) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (options.region.empty()) return Status::InvalidArgument("S3 region is empty");
  if (options.part_size < (5ull << 20)) {
    return Status::InvalidArgument(fmt::format("S3 part size {} is below S3's minimum of 5 MiB", options.part_size));
  }
  if (options.multipart_threshold < options.part_size) {
    return Status::InvalidArgument("S3 multipart threshold must be at least the part size");
  }
  if (options.retry.max_attempts < 1) return Status::InvalidArgument("S3 retry attempts must be at least 1");
  std::unique_ptr<S3Client> c(new S3Client(std::move(options)));
  const std::string& ep = c->options_.endpoint;
  if (ep.empty()) {
    c->scheme_ = "https";
    c->authority_ = "s3." + c->options_.region + ".amazonaws.com";
    c->path_style_ = c->options_.addressing == Addressing::kPathStyle;
  } else {
    size_t sep = ep.find("://");
    if (sep == std::string::npos || (ep.compare(0, sep, "http") != 0 && ep.compare(0, sep, "https") != 0)) {
      return Status::InvalidArgument("S3 endpoint '" + ep + "' must start with http:// or https://");
    }
    c->scheme_ = ep.substr(0, sep);
    std::string rest = ep.substr(sep + 3);
    size_t slash = rest.find('/');
    c->authority_ = rest.substr(0, slash);
    if (slash != std::string::npos) c->base_path_ = rest.substr(slash);
    while (!c->base_path_.empty() && c->base_path_.back() == '/') c->base_path_.pop_back();
    if (c->authority_.empty()) return Status::InvalidArgument("S3 endpoint '" + ep + "' has no host");
    c->path_style_ = c->options_.addressing != Addressing::kVirtualHost;
  }
  switch (c->options_.payload_signing) {
    case PayloadSigning::kAuto: c->sign_payload_ = c->scheme_ == "http"; break;
    case PayloadSigning::kSigned: c->sign_payload_ = true; break;
    case PayloadSigning::kUnsigned: c->sign_payload_ = false; break;
  }
  return c;
}

std::string S3Client::Uri(const std::string& bucket, const std::string& key) {
  return key.empty() ? "s3://" + bucket : "s3://" + bucket + "/" + key;
}

S3ClientStats S3Client::stats() const {
  S3ClientStats s;
  s.requests = requests_.load();
  s.retries = retries_.load();
  s.connections = connections_.load();
  return s;
}

void* S3Client::AcquireHandle() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void S3Client::ReleaseHandle(void* handle) {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (idle_.size() < options_.max_idle_connections) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(static_cast<CURL*>(handle));
}

namespace {

std::string S3Code(const S3Client::Response& r) { return xml::Text(r.body, "Code").value_or(""); }

// Maps a final (non-retryable or exhausted) HTTP answer to a Status.
Status ErrorStatus(const std::string& method, const std::string& bucket, const std::string& key,
                   const S3Client::Response& r) {
  std::string code = S3Code(r);
  std::string message = OneLine(xml::Text(r.body, "Message").value_or(""));
  std::string uri = S3Client::Uri(bucket, key);
  if (code == "NoSuchBucket" || (r.status == 404 && key.empty())) {
    return Status::NotFound("bucket '" + bucket + "' does not exist");
  }
  if (r.status == 403 || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "AccessDenied") {
    return Status::IOError(uri + ": access denied (" + (code.empty() ? "403 Forbidden" : code) + ")");
  }
  if (code == "NoSuchUpload") return Status::NotFound(uri + ": no such multipart upload");
  if (code == "NoSuchKey" || r.status == 404) return Status::NotFound(uri + ": no such object");
  if (r.status == 412 || code == "PreconditionFailed") return Status::AlreadyExists(uri + ": already exists");
  if (r.status == 416 || code == "InvalidRange") return Status::Corruption(uri + ": requested range not satisfiable");
  if (r.status == 405 || r.status == 501 || code == "NotImplemented" || code == "MethodNotAllowed") {
    return Status::NotSupported(fmt::format("{} {}: not supported by this store ({})", method, uri,
                                            code.empty() ? "HTTP " + std::to_string(r.status) : code));
  }
  return Status::IOError(fmt::format("{} {}: HTTP {}{}{}", method, uri, r.status, code.empty() ? "" : " " + code,
                                     message.empty() ? "" : ": " + message));
}

}  // namespace

Status S3Client::Execute(const Request& req, Response* resp) {
  const std::string uri = Uri(req.bucket, req.key);
  // Where the request goes, and what is signed: the same path and query.
  std::string host = authority_;
  std::string path = base_path_;
  if (!req.bucket.empty()) {
    if (path_style_) {
      path += "/" + UriEncode(req.bucket, false);
    } else {
      host = req.bucket + "." + authority_;
    }
  }
  path += "/" + UriEncode(req.key, true);
  const std::string query = CanonicalQueryString(req.query);
  const std::string url = scheme_ + "://" + host + path + (query.empty() ? "" : "?" + query);
  const bool has_body = req.method == "PUT" || req.method == "POST";
  const std::string payload_hash = !has_body || req.body.empty() ? std::string(kEmptyPayloadSha256)
                                   : sign_payload_               ? Sha256Hex(req.body)
                                                                 : std::string(kUnsignedPayload);

  const auto start = std::chrono::steady_clock::now();
  std::string last_failure;
  for (int attempt = 1;; ++attempt) {
    resp->status = 0;
    resp->body.clear();
    resp->headers.clear();
    resp->attempts = attempt;

    SigningInput in;
    in.method = req.method;
    in.canonical_uri = path;
    in.query = req.query;
    in.payload_hash = payload_hash;
    in.headers = {{"host", host},
                  {"x-amz-date", AmzDate(std::chrono::system_clock::now())},
                  {"x-amz-content-sha256", payload_hash}};
    if (!options_.credentials.session_token.empty()) {
      in.headers.emplace_back("x-amz-security-token", options_.credentials.session_token);
    }
    for (const auto& h : req.headers) in.headers.push_back(h);
    Signature sig = SignV4(in, options_.credentials, {in.headers[1].second, options_.region, "s3"});

    curl_slist* list = nullptr;
    for (const auto& [name, value] : in.headers) list = curl_slist_append(list, (name + ": " + value).c_str());
    list = curl_slist_append(list, ("Authorization: " + sig.authorization).c_str());
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
    if (req.method == "POST") list = curl_slist_append(list, "Content-Type: application/xml");

    CURL* h = static_cast<CURL*>(AcquireHandle());
    curl_easy_reset(h);  // keeps the handle's open connection
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, WriteBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, WriteHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &resp->headers);
    UploadSource source{req.body, 0};
    if (req.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (req.method == "PUT") {
      curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, ReadBody);
      curl_easy_setopt(h, CURLOPT_READDATA, &source);
      curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, SeekBody);
      curl_easy_setopt(h, CURLOPT_SEEKDATA, &source);
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    } else if (req.method == "POST") {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    } else if (req.method != "GET") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    char curl_error[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);

    CURLcode rc = curl_easy_perform(h);
    long connects = 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    ReleaseHandle(h);
    curl_slist_free_all(list);
    requests_++;
    connections_ += connects;
    if (attempt > 1) retries_++;

    // Decide: done, final error, or another try.
    bool maybe_applied = false;
    if (rc != CURLE_OK) {
      last_failure = curl_error[0] ? curl_error : curl_easy_strerror(rc);
      if (!RetryableTransport(rc)) {
        return Status::IOError(fmt::format("{} {}: {} (curl error {})", req.method, uri, last_failure, int(rc)));
      }
      maybe_applied = !NeverSent(rc);
    } else {
      std::string code;
      if (resp->status >= 300 || (req.error_in_200 && resp->body.find("<Error>") != std::string::npos)) {
        code = xml::Text(resp->body, "Code").value_or("");
      }
      std::string length = resp->Header("content-length");
      bool truncated = false;
      if (req.method != "HEAD" && !length.empty() && resp->status < 300) {
        truncated = std::strtoull(length.c_str(), nullptr, 10) != resp->body.size();
      }
      if (req.expected_bytes > 0 && resp->status == 206 && resp->body.size() != req.expected_bytes) truncated = true;
      if (truncated) {
        last_failure = fmt::format("body of {} bytes, expected {}", resp->body.size(),
                                   req.expected_bytes > 0 && resp->status == 206 ? std::to_string(req.expected_bytes)
                                                                                 : length);
        maybe_applied = true;
      } else if (RetryableStatus(resp->status, code) && (resp->status >= 300 || !code.empty())) {
        last_failure = fmt::format("HTTP {}{}", resp->status, code.empty() ? "" : " " + code);
        maybe_applied = true;
      } else if (resp->status == 200 && !code.empty()) {
        resp->status = 500;  // an error document in a 200 that is not transient: report it as the error it is
        return Status::OK();
      } else {
        return Status::OK();  // a final answer; the caller reads the status
      }
    }
    if (maybe_applied && req.method != "GET" && req.method != "HEAD") resp->maybe_applied_before = true;

    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    auto delay = Backoff(options_.retry, attempt - 1);
    if (attempt >= options_.retry.max_attempts || elapsed + delay >= options_.retry.max_elapsed) {
      return Status::Unavailable(fmt::format("{} {}: gave up after {} attempt{} in {:.1f} s: {}", req.method, uri,
                                             attempt, attempt == 1 ? "" : "s", elapsed.count() / 1000.0,
                                             last_failure));
    }
    log::Debug("s3", "{} {}: attempt {} failed ({}), retrying in {} ms", req.method, uri, attempt, last_failure,
               delay.count());
    std::this_thread::sleep_for(delay);
  }
}

// --- operations ------------------------------------------------------------------

Status S3Client::PutObject(const std::string& bucket, const std::string& key, std::string_view data,
                           bool if_none_match) {
  Request req("PUT", bucket, key);
  req.body = data;
  if (if_none_match) req.headers.emplace_back("if-none-match", "*");
  Response resp;
  WS_RETURN_IF_ERROR(Execute(req, &resp));
  if (resp.status / 100 == 2) return Status::OK();
  Status s = ErrorStatus("PUT", bucket, key, resp);
  if (s.code() == Status::Code::kAlreadyExists && resp.maybe_applied_before) {
    // An earlier try may have created the object and lost its answer: it is
    // ours if it holds exactly what we sent.
    auto head = HeadObject(bucket, key);
    if (head.ok() && head->etag == Md5Hex(data)) return Status::OK();
  }
  return s;
}

Result<std::string> S3Client::GetObject(const std::string& bucket, const std::string& key) {
  Request req("GET", bucket, key);
  Response resp;
  WS_RETURN_IF_ERROR(Execute(req, &resp));
  if (resp.status != 200) return ErrorStatus("GET", bucket, key, resp);
  return std::move(resp.body);
}

Status S3Client::GetRange(const std::string& bucket, const std::string& key, uint64_t offset, size_t n, char* dst) {
  if (n == 0) return Status::OK();
  Request req("GET", bucket, key);
  req.headers.emplace_back("range", fmt::format("bytes={}-{}", offset, offset + n - 1));
  req.expected_bytes = n;
  Response resp;
  WS_RETURN_IF_ERROR(Execute(req, &resp));
  if (resp.status == 206 && resp.body.size() == n) {
    std::memcpy(dst, resp.body.data(), n);
    return Status::OK();
  }
  if (resp.status == 200) {  // a store that ignores Range sends the whole object
    if (resp.body.size() < offset + n) {
      return Status::Corruption(fmt::format("{}: read past end (offset {}, length {}, size {})", Uri(bucket, key),
                                            offset, n, resp.body.size()));
    }
    std::memcpy(dst, resp.body.data() + offset, n);
    return Status::OK();
  }
  return ErrorStatus("GET", bucket, key, resp);
}

Result<ObjectInfo> S3Client::HeadObject(const std::string& bucket, const std::string& key) {
  Request req("HEAD", bucket, key);
  Response resp;
  WS_RETURN_IF_ERROR(Execute(req, &resp));
  if (resp.status != 200) return ErrorStatus("HEAD", bucket, key, resp);
  ObjectInfo info;
  info.key = key;
  info.size = std::strtoull(resp.Header("content-length").c_str(), nullptr, 10);
  info.etag = StripQuotes(resp.Header("etag"));
  info.modified_micros = xml::ParseHttpDateMicros(resp.Header("last-modified")).value_or(0);
  return info;
}

Status S3Client::CheckBucket(const std::string& bucket) {
  return ListObjectsPage(bucket, "", "", "", 1).status();
}

Status S3Client::DeleteObject(const std::string& bucket, const std::string& key) {
  Request req("DELETE", bucket, key);
  Response resp;
  WS_RETURN_IF_ERROR(Execute(req, &resp));
  if (resp.status / 100 == 2) return Status::OK();
  if (resp.status == 404 && S3Code(resp) != "NoSuchBucket") return Status::OK();  // already gone
  return ErrorStatus("DELETE", bucket, key, resp);
}

Status S3Client::DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys) {
  for (size_t begin = 0; begin < keys.size(); begin += 1000) {
    size_t end = std::min(keys.size(), begin + 1000);
    std::string body = "<Delete><Quiet>true</Quiet>";
    for (size_t i = begin; i < end; ++i) body += "<Object><Key>" + xml::Escape(keys[i]) + "</Key></Object>";
    body += "</Delete>";
    Request req("POST", bucket, "");
    req.query = {{"delete", ""}};
    req.headers.emplace_back("content-md5", Base64(Md5Raw(body)));
    req.body = body;
    Response resp;
    WS_RETURN_IF_ERROR(Execute(req, &resp));
    if (resp.status != 200) return ErrorStatus("POST", bucket, "", resp);
    auto errors = xml::Elements(resp.body, "Error");
    if (!errors.empty()) {
      return Status::IOError(fmt::format("delete {} of {} objects in s3://{} failed, first {}: {}", errors.size(),
                                         end - begin, bucket, xml::Text(errors[0], "Key").value_or("?"),
                                         xml::Text(errors[0], "Code").value_or("?")));
    }
  }
  return Status::OK();
}

Status S3Client::CopyObject(const std::string& bucket, const std::string& from_key, const std::string& to_key) {
  Request req("PUT", bucket, to_key);
  req.headers.emplace_back("x-amz-copy-source", "/" + bucket + "/" + UriEncode(from_key, true));
  req.error_in_200 = true;
  Response resp;
  WS_RETURN_IF_ERROR(Execute(req, &resp));
  if (resp.status == 200) return Status::OK();
  if (resp.status == 404 && S3Code(resp) == "NoSuchKey") return Status::NotFound(Uri(bucket, from_key) + ": no such object");
  return ErrorStatus("COPY", bucket, to_key, resp);
}

Result<ListPage> S3Client::ListObjectsPage(const std::string& bucket, const std::string& prefix,
                                           const std::string& delimiter, const std::string& continuation_token,
                                           int max_keys) {
  Request req("GET", bucket, "");
  req.query = {{"list-type", "2"},
               {"max-keys", std::to_string(max_keys > 0 ? max_keys : options_.list_page_size)}};
  if (!prefix.empty()) req.query.emplace_back("prefix", prefix);
  if (!delimiter.empty()) req.query.emplace_back("delimiter", delimiter);
  if (!continuation_token.empty()) req.query.emplace_back("continuation-token", continuation_token);
  Response resp;
  WS_RETURN_IF_ERROR(Execute(req, &resp));
  if (resp.status != 200) return ErrorStatus("LIST", bucket, prefix, resp);
  ListPage page;
  for (std::string_view c : xml::Elements(resp.body, "Contents")) {
    ObjectInfo o;
    o.key = xml::Text(c, "Key").value_or("");
    o.size = std::strtoull(xml::Text(c, "Size").value_or("0").c_str(), nullptr, 10);
    o.modified_micros = xml::ParseIso8601Micros(xml::Text(c, "LastModified").value_or("")).value_or(0);
    o.etag = StripQuotes(xml::Text(c, "ETag").value_or(""));
    page.objects.push_back(std::move(o));
  }
  for (std::string_view p : xml::Elements(resp.body, "CommonPrefixes")) {
    page.common_prefixes.push_back(xml::Text(p, "Prefix").value_or(""));
  }
  if (xml::Text(resp.body, "IsTruncated").value_or("false") == "true") {
    page.next_token = xml::Text(resp.body, "NextContinuationToken").value_or("");
    if (page.next_token.empty()) {
      return Status::IOError("LIST " + Uri(bucket, prefix) + ": truncated page without a continuation token");
    }
  }
  return page;
}

Result<ListPage> S3Client::ListObjects(const std::string& bucket, const std::string& prefix,
                                       const std::string& delimiter) {
  ListPage all;
  std::string token;
  do {
    WS_ASSIGN_OR_RETURN(ListPage page, ListObjectsPage(bucket, prefix, delimiter, token));
    for (auto& o : page.objects) all.objects.push_back(std::move(o));
    for (auto& p : page.common_prefixes) all.common_prefixes.push_back(std::move(p));
    token = std::move(page.next_token);
  } while (!token.empty());
  return all;
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& bucket, const std::string& key) {
  Request req("POST", bucket, key);
  req.query = {{"uploads", ""}};
  Response resp;
  WS_RETURN_IF_ERROR(Execute(req, &resp));
  if (resp.status != 200) return ErrorStatus("POST", bucket, key, resp);
  std::string id = xml::Text(resp.body, "UploadId").value_or("");
  if (id.empty()) return Status::IOError("create multipart upload " + Uri(bucket, key) + ": no UploadId in the answer");
  return id;
}

Result<std::string> S3Client::UploadPart(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id, int part_number, std::string_view data) {
  Request req("PUT", bucket, key);
  req.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  req.body = data;
  Response resp;
  WS_RETURN_IF_ERROR(Execute(req, &resp));
  if (resp.status != 200) return ErrorStatus("PUT part", bucket, key, resp);
  std::string etag = StripQuotes(resp.Header("etag"));
  if (etag.empty()) return Status::IOError(fmt::format("upload part {} of {}: no ETag", part_number, Uri(bucket, key)));
  return etag;
}

Status S3Client::CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id, const std::vector<CompletedPart>& parts,
                                         bool if_none_match) {
  std::string body = "<CompleteMultipartUpload>";
  for (const auto& p : parts) {
    body += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>\"{}\"</ETag></Part>", p.number, p.etag);
  }
  body += "</CompleteMultipartUpload>";
  Request req("POST", bucket, key);
  req.query = {{"uploadId", upload_id}};
  req.body = body;
  req.error_in_200 = true;
  if (if_none_match) req.headers.emplace_back("if-none-match", "*");
  Response resp;
  Status sent = Execute(req, &resp);
  if (sent.ok() && resp.status == 200) return Status::OK();
  Status failure = sent.ok() ? ErrorStatus("POST", bucket, key, resp) : sent;
  // The upload may have been completed by a try whose answer was lost (curl
  // also resends by itself on a connection that died, unseen by us): a later
  // try then meets NoSuchUpload, a 412, a 5xx, or runs out of tries. Whether
  // the object is ours is decided by reading it back. S3's ETag of a
  // multipart object is MD5(MD5(part 1) ... MD5(part N)) + "-N" and decides
  // exactly; for stores with other ETags the size decides, which is safe for
  // the unique names the table layer writes.
  const std::string code = S3Code(resp);
  const bool lost_race = sent.ok() && resp.status == 412;
  if (!sent.ok() || code == "NoSuchUpload" || resp.status >= 500 || (lost_race && resp.maybe_applied_before)) {
    std::string md5s;
    uint64_t size = 0;
    for (const auto& p : parts) {
      size += p.size;
      for (size_t i = 0; i + 1 < p.etag.size(); i += 2) {
        md5s.push_back(static_cast<char>(std::strtol(p.etag.substr(i, 2).c_str(), nullptr, 16)));
      }
    }
    auto head = HeadObject(bucket, key);
    if (head.ok()) {
      const bool aws_style = head->etag.find('-') != std::string::npos;
      if (aws_style ? head->etag == Md5Hex(md5s) + "-" + std::to_string(parts.size())
                    : head->size == size && !lost_race) {
        return Status::OK();
      }
    }
  }
  return failure;
}

Status S3Client::AbortMultipartUpload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id) {
  Request req("DELETE", bucket, key);
  req.query = {{"uploadId", upload_id}};
  Response resp;
  WS_RETURN_IF_ERROR(Execute(req, &resp));
  if (resp.status / 100 == 2) return Status::OK();
  if (S3Code(resp) == "NoSuchUpload") return Status::OK();
  return ErrorStatus("DELETE", bucket, key, resp);
}

}  // namespace ws::storage
