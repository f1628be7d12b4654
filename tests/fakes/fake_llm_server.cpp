#include "fakes/fake_llm_server.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include "logic/planner.hpp"
#include "logic/templates.hpp"
#include "messages/codec.hpp"

namespace grove::test {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using json = nlohmann::json;

struct fake_llm_server::impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  fake_handler handler;
  std::thread accept_thread;
  std::vector<std::thread> connections;
  mutable std::mutex mtx;
  std::condition_variable cv;
  bool stopping = false;
  std::atomic<int> count{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::vector<fake_request> seen;
  uint16_t port = 0;
  std::unique_ptr<ssl::context> tls;

  void serve(tcp::socket sock) {
    if (!tls) return serve_on(sock);
    ssl::stream<tcp::socket> stream{std::move(sock), *tls};
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (!ec) serve_on(stream);
  }

  template <class Stream>
  void serve_on(Stream& sock) {
    beast::flat_buffer buf;
    bhttp::request<bhttp::string_body> req;
    beast::error_code ec;
    bhttp::read(sock, buf, req, ec);
    if (ec) return;
    fake_request fr;
    fr.method = std::string{req.method_string()};
    fr.target = std::string{req.target()};
    for (auto& f : req) {
      std::string name{f.name_string()};
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      fr.headers[name] = std::string{f.value()};
    }
    fr.body = req.body();
    int now = ++in_flight;
    for (int prev = max_in_flight.load(); now > prev && !max_in_flight.compare_exchange_weak(prev, now);) {}
    int n = ++count;
    {
      std::lock_guard<std::mutex> guard{mtx};
      seen.push_back(fr);
    }
    auto reply = handler(fr, n);
    {
      std::unique_lock<std::mutex> lock{mtx};
      if (reply.hang) {
        cv.wait(lock, [this] { return stopping; });
      } else if (reply.delay.count() > 0) {
        cv.wait_for(lock, reply.delay, [this] { return stopping; });
      }
    }
    --in_flight;
    if (reply.hang) return;
    if (reply.drip.count() > 0) {
      // Headers at once, then the body a byte at a time: alive, never done in time.
      std::string head =
        "HTTP/1.1 " + std::to_string(reply.status) +
        " OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n";
      net::write(sock, net::buffer(head), ec);
      for (size_t i = 0; i < reply.body.size() && !ec; ++i) {
        {
          std::unique_lock<std::mutex> lock{mtx};
          if (cv.wait_for(lock, reply.drip, [this] { return stopping; })) break;
        }
        net::write(sock, net::buffer(reply.body.data() + i, 1), ec);
      }
    } else if (reply.truncate_at != std::string::npos) {
      std::string raw =
        "HTTP/1.1 " + std::to_string(reply.status) +
        " OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n" +
        reply.body.substr(0, reply.truncate_at);
      net::write(sock, net::buffer(raw), ec);
    } else {
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(reply.status), 11};
      res.set(bhttp::field::content_type, "application/json");
      for (auto& [k, v] : reply.headers) res.set(k, v);
      res.body() = reply.body;
      res.prepare_payload();
      bhttp::write(sock, res, ec);
    }
    beast::get_lowest_layer(sock).shutdown(tcp::socket::shutdown_both, ec);
  }
};

fake_llm_server::fake_llm_server(fake_handler handler) : impl_(std::make_unique<impl>()) {
  impl_->handler = std::move(handler);
  tcp::endpoint ep{net::ip::make_address("127.0.0.1"), 0};
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread{[this] {
    for (;;) {
      tcp::socket sock{impl_->ioc};
      beast::error_code ec;
      impl_->acceptor.accept(sock, ec);
      std::lock_guard<std::mutex> guard{impl_->mtx};
      if (impl_->stopping) return;
      if (ec) continue;
      impl_->connections.emplace_back([this, s = std::move(sock)]() mutable { impl_->serve(std::move(s)); });
    }
  }};
}

fake_llm_server::~fake_llm_server() {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  // Wake the blocking accept with one last connection.
  beast::error_code ec;
  tcp::socket poke{impl_->ioc};
  poke.connect({net::ip::make_address("127.0.0.1"), impl_->port}, ec);
  impl_->accept_thread.join();
  for (auto& t : impl_->connections) t.join();
}

uint16_t fake_llm_server::port() const {
  return impl_->port;
}

fake_llm_server::fake_llm_server(fake_handler handler, tls_files files) : fake_llm_server(std::move(handler)) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->use_certificate_chain_file(files.certificate);
  ctx->use_private_key_file(files.key, ssl::context::pem);
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->tls = std::move(ctx);
}

std::string fake_llm_server::url(const std::string& path, const std::string& host) const {
  return std::string{impl_->tls ? "https://" : "http://"} + host + ":" + std::to_string(impl_->port) + path;
}

int fake_llm_server::requests() const {
  return impl_->count.load();
}

int fake_llm_server::max_in_flight() const {
  return impl_->max_in_flight.load();
}

std::vector<fake_request> fake_llm_server::seen() const {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  return impl_->seen;
}

std::string openai_body(const std::string& text, int tokens_in, int tokens_out) {
  return json{
    {"id", "chatcmpl-1"},
    {"object", "chat.completion"},
    {"choices",
     json::array({{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}, {"finish_reason", "stop"}}})},
    {"usage",
     {{"prompt_tokens", tokens_in}, {"completion_tokens", tokens_out}, {"total_tokens", tokens_in + tokens_out}}}}
    .dump();
}

std::string ollama_body(const std::string& text, int tokens_in, int tokens_out) {
  return json{{"model", "m"},
              {"message", {{"role", "assistant"}, {"content", text}}},
              {"done", true},
              {"prompt_eval_count", tokens_in},
              {"eval_count", tokens_out}}
    .dump();
}

std::string gemini_body(const std::string& text, int tokens_in, int tokens_out) {
  return json{
    {"candidates", json::array({{{"content", {{"role", "model"}, {"parts", json::array({{{"text", text}}})}}}}})},
    {"usageMetadata", {{"promptTokenCount", tokens_in}, {"candidatesTokenCount", tokens_out}}}}
    .dump();
}

std::string anthropic_body(const std::string& text, int tokens_in, int tokens_out) {
  // A real model continues the prefilled "{" of the request.
  auto rest = text.rfind('{', 0) == 0 ? text.substr(1) : text;
  return json{{"id", "msg_1"},
              {"type", "message"},
              {"role", "assistant"},
              {"model", "m"},
              {"content", json::array({{{"type", "text"}, {"text", rest}}})},
              {"stop_reason", "end_turn"},
              {"usage", {{"input_tokens", tokens_in}, {"output_tokens", tokens_out}}}}
    .dump();
}

std::string body_for(const std::string& format, const std::string& text, int tokens_in, int tokens_out) {
  if (format == "anthropic") return anthropic_body(text, tokens_in, tokens_out);
  if (format == "ollama") return ollama_body(text, tokens_in, tokens_out);
  if (format == "gemini") return gemini_body(text, tokens_in, tokens_out);
  return openai_body(text, tokens_in, tokens_out);
}

std::string prompt_of(const std::string& format, const std::string& body) {
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return {};
  if (format == "gemini") return doc["contents"][0]["parts"][0]["text"].get<std::string>();
  for (auto& m : doc["messages"]) {
    if (m["role"] == "user") return m["content"].get<std::string>();
  }
  return {};
}

std::string competent_answer(const std::string& prompt) {
  auto line_after = [&](const std::string& key) {
    auto at = prompt.find(key);
    if (at == std::string::npos) return std::string{};
    at += key.size();
    return prompt.substr(at, prompt.find('\n', at) - at);
  };
  auto name = line_after("Component: ");
  if (!name.empty()) {
    return logic::builtin::component_json(name, logic::builtin::render_component({name, line_after("Description: ")}));
  }
  messages::plan p;
  auto sid = line_after("\"session_id\" to ");
  p.session_id = sid.empty() ? "fake" : sid.substr(0, sid.find('.'));
  auto at = prompt.find("User request:\n");
  p.request = at == std::string::npos ? std::string{} : prompt.substr(at + 14);
  while (!p.request.empty() && p.request.back() == '\n') p.request.pop_back();
  p.components = logic::builtin::plan_components(p.request);
  return messages::plan_to_text(p);
}

} // namespace grove::test
