// Load tools for benchmarks/run.sh:
//   bench_tools fake-model LATENCY_MS   an OpenAI-compatible model on 127.0.0.1:<port>
//                                       answering after LATENCY_MS; prints the port, runs until stdin closes
//   bench_tools forgetful-model         the same, answering at once, but every component it generates has
//                                       an input without a label unless the prompt names input_label;
//                                       tokens are billed from the text (4 bytes a token)
//   bench_tools ws-load URL CLIENTS     CLIENTS WebSocket clients at once, each submits a one-component
//                                       job; prints {"clients","ok","errors","p50_ms","p99_ms","wall_ms"}

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "infra/http/ws_client.hpp"

namespace {

using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

int fake_model(long latency_ms) {
  grove::test::fake_llm_server server{[latency_ms](const grove::test::fake_request& req, int) {
    auto r = grove::test::reply(
      200, grove::test::openai_body(grove::test::competent_answer(grove::test::prompt_of("openai", req.body))));
    r.delay = std::chrono::milliseconds{latency_ms};
    return r;
  }};
  std::printf("%u\n", server.port());
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {}
  return 0;
}

// A model that repeats one mistake unless its prompt names it (the lessons scenario, P9).
int forgetful_model() {
  grove::test::fake_llm_server server{[](const grove::test::fake_request& req, int) {
    auto prompt = grove::test::prompt_of("openai", req.body);
    auto text = grove::test::competent_answer(prompt);
    if (prompt.find("Component: ") != std::string::npos && prompt.find("input_label") == std::string::npos) {
      auto doc = json::parse(text, nullptr, false);
      if (doc.is_object() && doc.contains("html")) {
        auto html = doc["html"].get<std::string>();
        html.insert(html.find('>') + 1, "\n<input name=\"extra\">");
        doc["html"] = html;
        text = doc.dump();
      }
    }
    return grove::test::reply(200, grove::test::openai_body(text, static_cast<int>(prompt.size() / 4),
                                                            static_cast<int>(text.size() / 4)));
  }};
  std::printf("%u\n", server.port());
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {}
  return 0;
}

int ws_load(const std::string& url, int clients) {
  std::vector<double> latencies;
  std::mutex mtx;
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  auto t0 = clock_type::now();
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&, i] {
      auto start = clock_type::now();
      auto c = grove::http::ws_client::connect(url, "", std::chrono::seconds{60});
      if (!c) {
        ++errors;
        return;
      }
      json plan = {{"request", "load"}, {"components", json::array({{{"name", "load_part" + std::to_string(i)}}})}};
      if (!(*c)->send_text(json{{"type", "build"}, {"plan", plan}}.dump())) {
        ++errors;
        return;
      }
      for (;;) {
        auto text = (*c)->read(std::chrono::seconds{120});
        if (!text) {
          ++errors;
          return;
        }
        auto f = json::parse(*text, nullptr, false);
        if (f.is_discarded()) continue;
        if (f["type"] == "error") {
          ++errors;
          return;
        }
        if (f["type"] == "result") {
          if (f["report"]["status"] != "done") ++errors;
          std::lock_guard<std::mutex> guard{mtx};
          latencies.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto wall = std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0
                             : latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))];
  };
  std::cout << json{{"clients", clients},  {"ok", latencies.size()}, {"errors", errors.load()},
                    {"p50_ms", pct(0.50)}, {"p99_ms", pct(0.99)},    {"wall_ms", wall}}
                 .dump()
            << "\n";
  return errors.load() == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "fake-model" && argc == 3) return fake_model(std::stol(argv[2]));
  if (cmd == "ws-load" && argc == 4) return ws_load(argv[2], std::stoi(argv[3]));
  if (cmd == "forgetful-model" && argc == 2) return forgetful_model();
  std::fprintf(stderr, "usage: bench_tools fake-model LATENCY_MS | forgetful-model | ws-load URL CLIENTS\n");
  return 2;
}
