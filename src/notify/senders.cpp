#include "notify/senders.hpp"

#include "base/crypto.hpp"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <ctime>

namespace statgov::notify {

void notify_init() { curl_global_init(CURL_GLOBAL_DEFAULT); }

namespace {

struct ReadState {
  const std::string* data;
  std::size_t pos = 0;
};

std::size_t read_cb(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* s = static_cast<ReadState*>(user);
  std::size_t left = s->data->size() - s->pos;
  std::size_t take = std::min(left, size * n);
  std::memcpy(buf, s->data->data() + s->pos, take);
  s->pos += take;
  return take;
}

std::size_t discard_cb(char*, std::size_t size, std::size_t n, void*) { return size * n; }

Error send_error(const std::string& what, CURLcode rc, const char* errbuf) {
  std::string detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
  return make_error(ErrorKind::internal, "SEND_FAILED", what + " 发送失败：" + detail, what + " delivery failed: " + detail);
}

bool header_safe(const std::string& s) { return s.find_first_of("\r\n") == std::string::npos; }

}  // namespace

std::string build_email(const std::string& from, const Message& m, const std::string& date) {
  std::string body = statgov::base64(m.body);
  std::string wrapped;
  for (std::size_t i = 0; i < body.size(); i += 76) wrapped += body.substr(i, 76) + "\r\n";
  return "Date: " + date + "\r\nFrom: " + from + "\r\nTo: " + m.recipient + "\r\nSubject: =?UTF-8?B?" +
         statgov::base64(m.subject) + "?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n" +
         "Content-Transfer-Encoding: base64\r\n\r\n" + wrapped;
}

Status SmtpSender::send(const Message& m) {
  if (!header_safe(m.recipient) || m.recipient.find('@') == std::string::npos) {
    return make_error(ErrorKind::invalid, "BAD_RECIPIENT", "收件地址无效：" + m.recipient, "Invalid e-mail address: " + m.recipient);
  }
  char date[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string payload = build_email(c_.from, m, date);
  CURL* curl = curl_easy_init();
  if (!curl) return make_error(ErrorKind::internal, "SEND_FAILED", "邮件组件初始化失败", "curl init failed");
  char errbuf[CURL_ERROR_SIZE] = {0};
  ReadState rs{&payload};
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + m.recipient + ">").c_str());
  std::string from = "<" + c_.from + ">";
  curl_easy_setopt(curl, CURLOPT_URL, c_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(curl, CURLOPT_READDATA, &rs);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(c_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (!c_.user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, c_.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, c_.password.c_str());
  }
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return send_error("邮件 / e-mail", rc, errbuf);
  return Ok{};
}

Status WebhookSmsSender::send(const Message& m) {
  std::string payload = nlohmann::json{{"to", m.recipient}, {"text", m.subject + "\n" + m.body}}.dump();
  CURL* curl = curl_easy_init();
  if (!curl) return make_error(ErrorKind::internal, "SEND_FAILED", "短信组件初始化失败", "curl init failed");
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard_cb);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(timeout_.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl);
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) return send_error("短信 / SMS", rc, errbuf);
  if (code < 200 || code >= 300) {
    return make_error(ErrorKind::internal, "SEND_FAILED", "短信网关返回 " + std::to_string(code),
                      "SMS gateway answered " + std::to_string(code));
  }
  return Ok{};
}

}  // namespace statgov::notify
