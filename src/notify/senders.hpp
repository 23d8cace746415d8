// Message senders for the notification outbox: e-mail over SMTP and an SMS gateway webhook, both
// through libcurl. The seam (MessageSender) lets tests use a loopback SMTP sink or a fake.
//
// Thread safety: a sender holds only its configuration; send() may be called from any thread
// (each call uses its own curl handle). Call notify_init() once before threads start.
#pragma once

#include "base/result.hpp"

#include <chrono>
#include <string>

namespace statgov::notify {

void notify_init();

struct Message {
  std::string recipient;  // e-mail address or phone number
  std::string subject;
  std::string body;
};

class MessageSender {
 public:
  virtual ~MessageSender() = default;
  virtual Status send(const Message& m) = 0;
};

struct SmtpConfig {
  std::string url;   // smtp://host:port or smtps://host:port
  std::string from;  // envelope and header sender
  std::string user, password;
  std::chrono::seconds timeout{20};
};

class SmtpSender final : public MessageSender {
 public:
  explicit SmtpSender(SmtpConfig c) : c_(std::move(c)) {}
  Status send(const Message& m) override;

 private:
  SmtpConfig c_;
};

// POSTs {"to","text"} as JSON to the gateway; any 2xx is success.
class WebhookSmsSender final : public MessageSender {
 public:
  WebhookSmsSender(std::string url, std::chrono::seconds timeout = std::chrono::seconds(10))
      : url_(std::move(url)), timeout_(timeout) {}
  Status send(const Message& m) override;

 private:
  std::string url_;
  std::chrono::seconds timeout_;
};

// RFC 5322 message with a UTF-8 subject (RFC 2047 base64) and body (base64).
std::string build_email(const std::string& from, const Message& m, const std::string& date_rfc2822);

}  // namespace statgov::notify
