#pragma once

// A fake model server for tests: real HTTP/1.1 on 127.0.0.1, port 0, one
// thread per connection. A handler scripts each answer, including faults:
// statuses, Retry-After, delays, hangs, truncated bodies, huge bodies.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace grove::test {

/// What the server received.
struct fake_request {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers; ///< names lower-cased
  std::string body;
};

/// How to answer one request.
struct fake_reply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};
  bool hang = false;                      ///< never answer (until the server stops)
  size_t truncate_at = std::string::npos; ///< announce the full length, send this many bytes, close
  std::chrono::milliseconds drip{0};      ///< send the body one byte per this interval
};

/// A plain answer.
inline fake_reply reply(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  fake_reply r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

/// Scripts the answers; `n` counts requests from 1.
using fake_handler = std::function<fake_reply(const fake_request& req, int n)>;

/// Certificate and key (PEM files) for an HTTPS fake.
struct tls_files {
  std::string certificate;
  std::string key;
};

class fake_llm_server final {
public:
  explicit fake_llm_server(fake_handler handler);

  /// The same over TLS.
  fake_llm_server(fake_handler handler, tls_files tls);
  ~fake_llm_server();
  fake_llm_server(const fake_llm_server&) = delete;
  fake_llm_server& operator=(const fake_llm_server&) = delete;

  uint16_t port() const;

  /// "http(s)://<host>:<port>" followed by `path`.
  std::string url(const std::string& path = "", const std::string& host = "127.0.0.1") const;

  int requests() const;
  int max_in_flight() const;
  std::vector<fake_request> seen() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A 200 body in each wire format carrying `text` and token counts.
std::string openai_body(const std::string& text, int tokens_in = 10, int tokens_out = 20);
std::string ollama_body(const std::string& text, int tokens_in = 10, int tokens_out = 20);
std::string gemini_body(const std::string& text, int tokens_in = 10, int tokens_out = 20);
/// Anthropic's messages envelope; `text` loses a leading "{" (the request prefilled it).
std::string anthropic_body(const std::string& text, int tokens_in = 10, int tokens_out = 20);

/// The body for `format` ("openai", "ollama", "gemini", "anthropic").
std::string body_for(const std::string& format, const std::string& text, int tokens_in = 10, int tokens_out = 20);

/// The user prompt inside a request body of `format`.
std::string prompt_of(const std::string& format, const std::string& body);

/// What a competent model would answer to a grove prompt: a plan for a plan
/// prompt, a valid component for a generation prompt.
std::string competent_answer(const std::string& prompt);

} // namespace grove::test
