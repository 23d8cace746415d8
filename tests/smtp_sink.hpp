// A minimal SMTP server on loopback for tests: accepts every message and records its recipients.
#pragma once

#include <utility>

#include <boost/asio.hpp>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace statgov::testing {

class SmtpSink {
 public:
  struct Mail {
    std::string from;
    std::vector<std::string> to;
    std::string data;
  };

  SmtpSink() : acceptor_(ioc_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this] { serve(); });
  }
  ~SmtpSink() {
    stopping_ = true;
    boost::system::error_code ec;
    // Wake the blocking accept with a connection of our own.
    boost::asio::ip::tcp::socket s(ioc_);
    s.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::vector<Mail> mails() {
    std::lock_guard lock(mu_);
    return mails_;
  }

 private:
  void serve() {
    while (!stopping_) {
      boost::asio::ip::tcp::socket sock(ioc_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stopping_) break;
      session(sock);
    }
  }
  void session(boost::asio::ip::tcp::socket& sock) {
    boost::system::error_code ec;
    auto say = [&](const std::string& s) { boost::asio::write(sock, boost::asio::buffer(s + "\r\n"), ec); };
    boost::asio::streambuf buf;
    auto line = [&]() -> std::string {
      boost::asio::read_until(sock, buf, "\r\n", ec);
      if (ec) return "";
      std::istream is(&buf);
      std::string l;
      std::getline(is, l);
      if (!l.empty() && l.back() == '\r') l.pop_back();
      return l;
    };
    say("220 sink ESMTP");
    Mail m;
    while (!ec) {
      std::string l = line();
      if (ec) break;
      std::string up = l.substr(0, 4);
      for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (up == "EHLO" || up == "HELO") say("250 sink");
      else if (up == "MAIL") { m = Mail{}; m.from = l; say("250 ok"); }
      else if (up == "RCPT") {
        auto a = l.find('<'), b = l.find('>');
        m.to.push_back(l.substr(a + 1, b - a - 1));
        say("250 ok");
      } else if (up == "DATA") {
        say("354 go");
        for (;;) {
          std::string d = line();
          if (ec || d == ".") break;
          m.data += d + "\n";
        }
        {
          std::lock_guard lock(mu_);
          mails_.push_back(m);
        }
        say("250 queued");
      } else if (up == "QUIT") { say("221 bye"); break; }
      else say("250 ok");
    }
  }

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  bool stopping_ = false;
  std::mutex mu_;
  std::vector<Mail> mails_;
};

}  // namespace statgov::testing
