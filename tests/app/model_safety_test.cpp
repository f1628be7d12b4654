// A model that hangs, one that drips its answer a byte at a time, and one that
// echoes the API key back changed: each bounded by deadlines, and the key
// nowhere in what grove prints, logs, reports or commits.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fakes/fake_llm_server.hpp"
#include "infra/http/ws_client.hpp"
#include "support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using grove::test::fake_reply;
using grove::test::fake_request;

namespace {

const std::string grove_bin = GROVE_BINARY;
const std::string key = "sk-proj-Zq8VvT3mK9xLw2RbN7cY4dHf";

// grove.json with one OpenAI-compatible provider "m" at `server`; `provider`
// adds keys to it (", k": v ...), `top` the rest of the file.
void write_config(const fs::path& dir, grove::test::fake_llm_server& server, const std::string& provider,
                  const std::string& top) {
  grove::test::write_file(dir / "grove.json", R"({"providers": {"m": {"type": "openai", "model": "m", "base_url": ")" +
                                                server.url("/v1") + "\"" + provider + "}}, " + top + "}");
}

struct timed_build {
  grove::test::command_result r;
  std::chrono::milliseconds elapsed;
};

// One component, a plan of our own (no planning call), against `server`, with tight deadlines.
timed_build build_with(const fs::path& dir, grove::test::fake_llm_server& server, const std::string& timeouts) {
  write_config(dir, server, R"(, "timeout_ms": 60000, "max_retries": 2)",
               R"("routes": {"default": ["m"]}, "max_attempts": 2, )" + timeouts);
  grove::test::write_file(dir / "plan.json", R"({"request": "a navbar", "components": [{"name": "navbar"}]})");
  auto start = std::chrono::steady_clock::now();
  auto r = grove::test::run("cd '" + dir.string() + "' && OPENAI_API_KEY='" + key + "' '" + grove_bin +
                            "' build --plan plan.json --repo ws --config grove.json --json 2>stderr.txt");
  return {r, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)};
}

void expect_bounded_failure(const timed_build& b, const fs::path& dir, std::chrono::milliseconds bound) {
  auto err = grove::test::read_file(dir / "stderr.txt");
  EXPECT_EQ(b.r.status, 1) << b.r.out << err;
  EXPECT_LT(b.elapsed, bound) << "the job outlived its deadlines";
  auto report = nlohmann::json::parse(b.r.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << b.r.out << err;
  auto& c = report["components"][0];
  EXPECT_EQ(c["status"], "dropped");
  EXPECT_EQ(c["restarts"], 0) << "a timed-out model is not a crash";
  EXPECT_GE(c["attempts"].get<int>(), 1);
  EXPECT_NE(c["error"].get<std::string>().find("generation_timeout"), std::string::npos) << c.dump();
  grove::test::expect_clean_repository(dir / "ws");
}

// The key in capitals, as a provider might echo it.
std::string upper_key() {
  std::string upper = key;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

// Every spelling that must never appear: as is, upper-cased, its head and its tail.
std::vector<std::string> key_spellings() {
  return {key, upper_key(), key.substr(0, 14), key.substr(key.size() - 10)};
}

} // namespace

TEST(model_deadlines, a_model_that_never_answers_ends_the_job_within_its_deadlines) {
  grove::test::temp_dir dir;
  grove::test::fake_llm_server server{[](const fake_request&, int) {
    fake_reply r;
    r.hang = true;
    return r;
  }};
  // Two attempts of 1.5 s each: the component ends after about 3 s, far below the 60 s request timeout.
  auto b = build_with(dir.path(), server,
                      R"("generator_timeout_ms": 1500, "component_timeout_ms": 10000, "job_timeout_ms": 20000)");
  expect_bounded_failure(b, dir.path(), 10s);
  auto report = nlohmann::json::parse(b.r.out);
  EXPECT_EQ(report["components"][0]["attempts"], 2) << "each timeout consumed an attempt";
  std::cerr << "hanging model: job ended in " << b.elapsed.count() << " ms\n";
}

TEST(model_deadlines, a_model_that_drips_is_cut_at_the_deadline) {
  grove::test::temp_dir dir;
  grove::test::fake_llm_server server{[](const fake_request& req, int) {
    auto r = grove::test::reply(
      200, grove::test::openai_body(grove::test::competent_answer(grove::test::prompt_of("openai", req.body))));
    r.drip = 50ms; // a few KiB at 20 bytes/s: minutes, were it not cut
    return r;
  }};
  // The component's deadline (2.5 s) comes before its second attempt would end.
  auto b = build_with(dir.path(), server,
                      R"("generator_timeout_ms": 2000, "component_timeout_ms": 2500, "job_timeout_ms": 20000)");
  expect_bounded_failure(b, dir.path(), 10s);
  auto report = nlohmann::json::parse(b.r.out);
  EXPECT_NE(report["components"][0]["error"].get<std::string>().find("component's deadline"), std::string::npos)
    << report.dump();
  std::cerr << "dripping model: job ended in " << b.elapsed.count() << " ms\n";
}

TEST(model_deadlines, the_job_deadline_ends_a_job_partial_with_what_landed) {
  grove::test::temp_dir dir;
  grove::test::fake_llm_server server{[](const fake_request& req, int) {
    auto prompt = grove::test::prompt_of("openai", req.body);
    auto r = grove::test::reply(200, grove::test::openai_body(grove::test::competent_answer(prompt)));
    if (prompt.find("Component: footer\n") != std::string::npos) r.hang = true;
    return r;
  }};
  write_config(dir.path(), server, "",
               R"("routes": {"default": ["m"]},
                  "generator_timeout_ms": 60000, "component_timeout_ms": 60000, "job_timeout_ms": 2000)");
  grove::test::write_file(dir.path() / "plan.json",
                          R"({"request": "x", "components": [{"name": "navbar"}, {"name": "footer"}]})");
  auto start = std::chrono::steady_clock::now();
  auto r = grove::test::run("cd '" + dir.path().string() + "' && '" + grove_bin +
                            "' build --plan plan.json --repo ws --config grove.json --json 2>/dev/null");
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_LT(elapsed, 10s);
  auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["status"], "partial");
  EXPECT_NE(report["error"].get<std::string>().find("job_timeout_ms 2000"), std::string::npos) << report.dump();
  EXPECT_NE(grove::test::read_file(dir.path() / "ws/output/builder_output.html").find("data-component=\"navbar\""),
            std::string::npos);
  grove::test::expect_clean_repository(dir.path() / "ws");
}

TEST(key_hygiene, a_key_echoed_changed_or_in_an_answer_never_appears_anywhere) {
  const auto upper = upper_key();
  const auto spellings = key_spellings();
  grove::test::temp_dir dir;
  // Errors echo the key in other spellings; the one answer that works carries it in the component.
  grove::test::fake_llm_server server{[&](const fake_request& req, int n) {
    if (n % 3 == 1)
      return grove::test::reply(401, R"({"error": {"message": "Incorrect API key provided: )" + upper + R"("}})");
    if (n % 3 == 2)
      return grove::test::reply(
        500, "upstream failed for key " + key.substr(0, 14) + "... and " + key.substr(key.size() - 10));
    auto doc = nlohmann::json::parse(grove::test::competent_answer(grove::test::prompt_of("openai", req.body)));
    doc["html"] = doc["html"].get<std::string>() + "<p>" + key + "</p>";
    return grove::test::reply(200, grove::test::openai_body(doc.dump()));
  }};
  write_config(dir.path(), server, R"(, "max_retries": 0, "failure_threshold": 100)",
               R"("routes": {"default": ["m", "m", "m"]}, "max_attempts": 2)");
  grove::test::write_file(dir.path() / "plan.json", R"({"request": "a navbar", "components": [{"name": "navbar"}]})");
  auto r = grove::test::run("cd '" + dir.path().string() + "' && OPENAI_API_KEY='" + key + "' '" + grove_bin +
                            "' build --plan plan.json --repo ws --config grove.json --json 2>stderr.txt");
  auto err = grove::test::read_file(dir.path() / "stderr.txt");
  auto report = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << r.out << err;
  auto& c = report["components"][0];
  EXPECT_EQ(c["status"], "dropped") << "an answer carrying the key never lands: " << c.dump();
  EXPECT_NE(c.dump().find("secret_leak"), std::string::npos) << c.dump();
  EXPECT_GE(server.requests(), 3);
  // Every place provider text can reach: stdout, stderr, the telemetry log, every object in the repository.
  auto objects = grove::test::run("cd '" + (dir.path() / "ws").string() +
                                  "' && git cat-file --batch-all-objects --batch 2>/dev/null")
                   .out;
  auto files =
    grove::test::run("grep -r -i -a -h '' '" + (dir.path() / "ws").string() + "' --exclude-dir=.git 2>/dev/null").out;
  for (auto& where : {r.out, err, grove::test::read_file(dir.path() / "ws/.grove/telemetry.jsonl"), objects, files}) {
    for (auto& s : spellings) {
      EXPECT_EQ(where.find(s), std::string::npos) << "leaked " << s << " in:\n" << where.substr(0, 2000);
    }
  }
  auto log = grove::test::read_file(dir.path() / "ws/.grove/telemetry.jsonl");
  EXPECT_NE(log.find("Incorrect API key provided: [redacted]"), std::string::npos)
    << "the echoes were there, redacted: " << log;
  grove::test::expect_clean_repository(dir.path() / "ws");
}

TEST(key_hygiene, a_served_job_never_shows_the_key_in_events_or_the_job_list) {
  const auto upper = upper_key();
  const auto spellings = key_spellings();
  grove::test::temp_dir dir;
  grove::test::fake_llm_server server{[&](const fake_request& req, int n) {
    if (n % 2 == 1) return grove::test::reply(401, "bad key " + upper + " (" + key.substr(key.size() - 10) + ")");
    return grove::test::reply(
      200, grove::test::openai_body(grove::test::competent_answer(grove::test::prompt_of("openai", req.body))));
  }};
  write_config(dir.path(), server, R"(, "max_retries": 0, "failure_threshold": 100)",
               R"("routes": {"default": ["m", "m"]})");
  grove::test::child_process serve{"cd '" + dir.path().string() + "' && OPENAI_API_KEY='" + key + "' exec '" +
                                   grove_bin + "' serve --repo ws --port 0 --config grove.json 2> serve.log"};
  auto port = grove::test::wait_for_number_after(dir.path() / "serve.log", "http://127.0.0.1:", 15s);
  ASSERT_FALSE(port.empty()) << grove::test::read_file(dir.path() / "serve.log");
  auto c = grove::http::ws_client::connect("ws://127.0.0.1:" + port + "/ws", "");
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE((*c)->send_text(R"({"type":"subscribe","job":"*"})"));
  ASSERT_TRUE(
    (*c)->send_text(R"({"type":"build","plan":{"request":"x","components":[{"name":"navbar"},{"name":"footer"}]}})"));
  std::string frames;
  for (;;) {
    auto text = (*c)->read(30s);
    ASSERT_TRUE(text) << "no result; frames so far:\n" << frames;
    frames += *text + "\n";
    if (text->find("\"type\":\"result\"") != std::string::npos) break;
  }
  auto jobs = grove::http::http_get("http://127.0.0.1:" + port + "/api/jobs");
  ASSERT_TRUE(jobs);
  auto metrics = grove::http::http_get("http://127.0.0.1:" + port + "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(frames.find("[redacted]"), std::string::npos) << "the echoes reached the events, redacted:\n" << frames;
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(30s), 0);
  for (auto& where : {frames, jobs->body, metrics->body, grove::test::read_file(dir.path() / "serve.log"),
                      grove::test::read_file(dir.path() / "ws/.grove/telemetry.jsonl")}) {
    for (auto& s : spellings)
      EXPECT_EQ(where.find(s), std::string::npos) << "leaked " << s << " in:\n" << where.substr(0, 3000);
  }
}
