#include "wikistream/alerts/alert_sink.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>

#include "wikistream/common/logging.h"
#include "wikistream/common/time.h"
#include "wikistream/common/uuid.h"

namespace ws::alerts {

using model::Alert;
using model::AlertKey;

namespace {

constexpr size_t kRecentLimit = 200;
constexpr int kDeliveryAttempts = 3;

size_t DiscardBody(char*, size_t size, size_t n, void*) { return size * n; }

std::string AlertJson(const Alert& a) {
  nlohmann::json j = {{"alert_id", a.alert_id},
                      {"raised_at", FormatIso8601(a.raised_at_us)},
                      {"alert_date", a.alert_date},
                      {"kind", a.kind},
                      {"severity", a.severity},
                      {"subject", a.subject},
                      {"entity", a.entity}};
  auto details = nlohmann::json::parse(a.details, nullptr, false);
  j["details"] = details.is_discarded() ? nlohmann::json(a.details) : details;
  return j.dump();
}

}  // namespace

AlertSink::AlertSink(std::string webhook_url) : webhook_url_(std::move(webhook_url)) {
  worker_ = std::thread([this] { DeliveryLoop(); });
}

AlertSink::~AlertSink() { Shutdown(); }

bool AlertSink::Raise(Alert alert) {
  if (alert.alert_id.empty()) alert.alert_id = NewUuid();
  if (alert.raised_at_us == 0) alert.raised_at_us = NowMicros();
  if (alert.alert_date.empty()) alert.alert_date = FormatDate(alert.raised_at_us);
  if (alert.details.empty()) alert.details = "{}";
  std::string key = AlertKey(alert);
  std::function<void(const Alert&)> listener;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!raised_.insert(std::move(key)).second) return false;
    recent_.push_front(alert);
    if (recent_.size() > kRecentLimit) recent_.pop_back();
    listener = listener_;
    if (webhook_url_.empty()) {
      alert.delivery_error = "no webhook configured";
      pending_.push_back(alert);
    } else {
      queue_.push_back(alert);
    }
  }
  cv_.notify_all();
  log::Warn("alert", "{} {}: {}", Name(alert.severity), Name(alert.kind), alert.subject);
  if (listener) listener(alert);
  return true;
}

void AlertSink::MarkRaised(const std::string& alert_key) {
  std::lock_guard<std::mutex> lock(mu_);
  raised_.insert(alert_key);
}

bool AlertSink::WasRaised(const std::string& alert_key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return raised_.count(alert_key) > 0;
}

std::vector<Alert> AlertSink::TakePending() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Alert> out;
  out.swap(pending_);
  return out;
}

std::vector<Alert> AlertSink::Recent(size_t limit) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Alert> out;
  for (size_t i = 0; i < recent_.size() && i < limit; ++i) out.push_back(recent_[i]);
  return out;
}

void AlertSink::SetListener(std::function<void(const Alert&)> listener) {
  std::lock_guard<std::mutex> lock(mu_);
  listener_ = std::move(listener);
}

void AlertSink::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void AlertSink::DeliveryLoop() {
  for (;;) {
    Alert alert;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      alert = std::move(queue_.front());
      queue_.pop_front();
    }
    Deliver(&alert);
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(std::move(alert));
  }
}

bool AlertSink::Deliver(Alert* alert) {
  std::string body = AlertJson(*alert);
  std::string last_error;
  for (int attempt = 1; attempt <= kDeliveryAttempts; ++attempt) {
    CURL* curl = curl_easy_init();
    if (!curl) {
      last_error = "curl_easy_init failed";
      break;
    }
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(curl, CURLOPT_URL, webhook_url_.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, DiscardBody);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc == CURLE_OK && status >= 200 && status < 300) {
      alert->delivered = true;
      alert->delivery_error.clear();
      return true;
    }
    last_error = rc != CURLE_OK ? curl_easy_strerror(rc) : fmt::format("HTTP {}", status);
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping = stopping_;
    }
    if (attempt < kDeliveryAttempts && !stopping) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
    }
  }
  alert->delivered = false;
  alert->delivery_error = last_error;
  log::Warn("alert", "webhook delivery of {} failed: {}", alert->alert_id, last_error);
  return false;
}

}  // namespace ws::alerts
