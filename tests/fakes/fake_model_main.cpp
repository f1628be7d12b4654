// grove_fake_model: the test fake model server as a process, for tests and
// benchmarks that run nodes as processes (and in network namespaces). An
// OpenAI-compatible endpoint on 127.0.0.1, a free port printed on stdout as
// "port N"; every answer competent, generations after --delay-ms. Runs until
// killed.
//
//   grove_fake_model [--delay-ms N] [--fail-first NAME]...
//     --fail-first NAME: the first generation of component NAME answers with
//     a script tag, so QA rejects it once.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"

int main(int argc, char** argv) {
  int delay_ms = 0;
  std::set<std::string> fail_first;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--delay-ms") == 0 && i + 1 < argc) {
      delay_ms = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--fail-first") == 0 && i + 1 < argc) {
      fail_first.insert(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: grove_fake_model [--delay-ms N] [--fail-first NAME]...\n");
      return 2;
    }
  }
  auto mtx = std::make_shared<std::mutex>();
  auto failed = std::make_shared<std::set<std::string>>();
  grove::test::fake_llm_server server{[=](const grove::test::fake_request& req, int) {
    auto prompt = grove::test::prompt_of("openai", req.body);
    auto answer = grove::test::competent_answer(prompt);
    auto at = prompt.find("Component: ");
    std::chrono::milliseconds delay{0};
    if (at != std::string::npos) {
      delay = std::chrono::milliseconds{delay_ms};
      auto name = prompt.substr(at + 11, prompt.find('\n', at) - at - 11);
      std::lock_guard<std::mutex> guard{*mtx};
      if (fail_first.count(name) && failed->insert(name).second) {
        auto doc = nlohmann::json::parse(answer);
        doc["html"] = doc["html"].get<std::string>() + "<script>alert(1)</script>";
        answer = doc.dump();
      }
    }
    auto r = grove::test::reply(200, grove::test::openai_body(answer));
    r.delay = delay;
    return r;
  }};
  std::printf("port %u\n", server.port());
  std::fflush(stdout);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGINT);
  sigprocmask(SIG_BLOCK, &s, nullptr);
  int sig = 0;
  sigwait(&s, &sig);
  return 0;
}
