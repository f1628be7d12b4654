#include <gtest/gtest.h>

#include "logic/prompts.hpp"
#include "logic/routing.hpp"
#include "logic/similarity.hpp"
#include "logic/wire_formats.hpp"

using namespace grove::logic;
using namespace std::chrono_literals;

TEST(routing, retry_after_parses_seconds) {
  EXPECT_EQ(routing::parse_retry_after("2"), 2000);
  EXPECT_EQ(routing::parse_retry_after(" 1.5"), 1500);
  EXPECT_EQ(routing::parse_retry_after("0"), 0);
  EXPECT_EQ(routing::parse_retry_after(""), -1);
  EXPECT_EQ(routing::parse_retry_after("soon"), -1);
  EXPECT_EQ(routing::parse_retry_after("-3"), -1);
  EXPECT_EQ(routing::parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), -1);
}

TEST(routing, breaker_opens_after_threshold_and_closes_after_cooldown) {
  routing::breaker b;
  auto t0 = routing::clock::time_point{} + 1h;
  EXPECT_TRUE(b.allow(t0));
  EXPECT_FALSE(b.failure(t0, 3, 1000ms));
  EXPECT_FALSE(b.failure(t0, 3, 1000ms));
  EXPECT_TRUE(b.failure(t0, 3, 1000ms));
  EXPECT_FALSE(b.allow(t0 + 999ms));
  EXPECT_TRUE(b.allow(t0 + 1000ms));
  b.failure(t0 + 1000ms, 3, 1000ms);
  b.success();
  EXPECT_EQ(b.consecutive_failures(), 0u);
}

TEST(routing, json_is_extracted_from_prose_and_fences) {
  EXPECT_EQ(routing::extract_json("```json\n{\"a\": 1}\n```"), "{\"a\": 1}");
  EXPECT_EQ(routing::extract_json("Here you go: {\"a\": {\"b\": 2}} Enjoy!"), "{\"a\": {\"b\": 2}}");
  EXPECT_EQ(routing::extract_json("no braces"), "no braces");
}

TEST(routing, answers_are_checked_against_the_role_schema) {
  grove::messages::model_request gen;
  gen.role = "generate";
  gen.spec = {"navbar", ""};
  EXPECT_NE(routing::check_answer(gen, "nope").find("not valid JSON"), std::string::npos);
  EXPECT_NE(routing::check_answer(gen, "{}").find("missing required property"), std::string::npos);
  grove::messages::model_request plan;
  plan.role = "plan";
  EXPECT_TRUE(
    routing::check_answer(plan, R"({"session_id":"s","request":"r","components":[{"name":"Nav Bar"}]})").empty());
  EXPECT_FALSE(routing::check_answer(plan, R"({"components":[]})").empty());
}

TEST(routing, usage_accumulates_tokens_and_cost) {
  grove::messages::usage u;
  routing::account(u, 1000, 2000, 1.0, 2.0, false);
  routing::account(u, 0, 0, 1.0, 2.0, true);
  EXPECT_EQ(u.requests, 2u);
  EXPECT_EQ(u.failures, 1u);
  EXPECT_NEAR(u.cost_usd, 0.005, 1e-12);
}

TEST(wire, requests_carry_the_format_and_never_put_keys_in_urls) {
  auto o = wire::make_request(wire::format::openai, "http://h/v1/", "m", "k3y", "sys", "p");
  EXPECT_EQ(o.url, "http://h/v1/chat/completions");
  auto g = wire::make_request(wire::format::gemini, "http://h/v1beta", "g", "k3y", "sys", "p");
  EXPECT_EQ(g.url, "http://h/v1beta/models/g:generateContent");
  EXPECT_EQ(g.url.find("k3y"), std::string::npos);
  auto l = wire::make_request(wire::format::ollama, "http://h:11434", "q", "", "sys", "p");
  EXPECT_EQ(l.url, "http://h:11434/api/chat");
  EXPECT_TRUE(l.headers.empty());
}

TEST(wire, envelopes_parse_or_fail_clearly) {
  auto ok = wire::parse_response(
    wire::format::openai,
    R"({"choices":[{"message":{"content":"{}"}}],"usage":{"prompt_tokens":3,"completion_tokens":4}})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->tokens_in, 3u);
  EXPECT_EQ(ok->tokens_out, 4u);
  auto missing = wire::parse_response(wire::format::ollama, R"({"done":true})");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("unexpected response envelope"), std::string::npos);
  EXPECT_FALSE(wire::parse_response(wire::format::gemini, "<html>"));
}

TEST(wire, anthropic_messages_prefill_the_json_answer_and_read_usage) {
  auto a = wire::make_request(wire::format::anthropic, "http://h/", "claude-x", "k3y", "sys", "p");
  EXPECT_EQ(a.url, "http://h/v1/messages");
  EXPECT_EQ(a.url.find("k3y"), std::string::npos);
  ASSERT_EQ(a.headers.size(), 2u);
  EXPECT_EQ(a.headers[0], (std::pair<std::string, std::string>{"x-api-key", "k3y"}));
  EXPECT_EQ(a.headers[1], (std::pair<std::string, std::string>{"anthropic-version", "2023-06-01"}));
  auto keyless = wire::make_request(wire::format::anthropic, "http://h", "m", "", "sys", "p");
  EXPECT_EQ(keyless.headers.size(), 1u);
  // The answer continues the prefilled "{"; a whole object (a server that ignored the prefill) stays whole.
  auto cont = wire::parse_response(
    wire::format::anthropic,
    R"({"content":[{"type":"text","text":"\"a\": 1}"}],"usage":{"input_tokens":5,"output_tokens":6}})");
  ASSERT_TRUE(cont) << cont.error().message;
  EXPECT_EQ(cont->text, R"({"a": 1})");
  EXPECT_EQ(cont->tokens_in, 5u);
  EXPECT_EQ(cont->tokens_out, 6u);
  auto whole = wire::parse_response(wire::format::anthropic, R"({"content":[{"type":"text","text":" {\"a\": 1}"}]})");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->text, R"( {"a": 1})");
  EXPECT_FALSE(wire::parse_response(wire::format::anthropic, R"({"type":"error"})"));
  EXPECT_FALSE(wire::parse_response(wire::format::anthropic, R"({"content":"x"})"));
  ASSERT_TRUE(wire::format_from("anthropic"));
}

TEST(wire, embeddings_requests_and_envelopes_in_both_formats) {
  auto o = wire::make_embed_request(wire::format::openai, "http://h/v1/", "e", "k3y", {"a", "b"});
  EXPECT_EQ(o.url, "http://h/v1/embeddings");
  EXPECT_EQ(o.headers.at(0).second, "Bearer k3y");
  EXPECT_NE(o.body.find(R"("input":["a","b"])"), std::string::npos) << o.body;
  auto l = wire::make_embed_request(wire::format::ollama, "http://h:11434", "n", "", {"a"});
  EXPECT_EQ(l.url, "http://h:11434/api/embed");
  EXPECT_TRUE(l.headers.empty());
  // OpenAI orders by "index".
  auto ok = wire::parse_embed_response(
    wire::format::openai, R"({"data":[{"index":1,"embedding":[0,1]},{"index":0,"embedding":[1,0]}]})", 2);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ((*ok)[0], (std::vector<float>{1, 0}));
  EXPECT_EQ((*ok)[1], (std::vector<float>{0, 1}));
  auto ol = wire::parse_embed_response(wire::format::ollama, R"({"embeddings":[[0.5,0.25]]})", 1);
  ASSERT_TRUE(ol);
  EXPECT_EQ((*ol)[0], (std::vector<float>{0.5f, 0.25f}));
  // Garbage of every shape is an error, never a short or mixed answer.
  for (auto* bad : {R"({"data":[{"embedding":[1,0]}]})", R"({"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]})",
                    R"({"data":[{"embedding":[1,0]},{"embedding":[1]}]})", R"({"data":[{"embedding":[]},{"embedding":[]}]})",
                    R"({"data":[{"embedding":["x",0]},{"embedding":[1,0]}]})", R"({"data":{}})", "[]", "nope",
                    R"({"data":[{"index":7,"embedding":[1]},{"embedding":[1]}]})"}) {
    EXPECT_FALSE(wire::parse_embed_response(wire::format::openai, bad, 2)) << bad;
  }
  EXPECT_FALSE(wire::parse_embed_response(wire::format::ollama, R"({"embeddings":[[1],[2]]})", 1));
  EXPECT_FALSE(wire::parse_embed_response(wire::format::ollama, R"({"embeddings":[[1e999]]})", 1));
}

TEST(similarity, nearest_by_cosine_with_a_floor_and_a_limit) {
  using similarity::cosine;
  using similarity::nearest;
  EXPECT_NEAR(cosine({1, 0}, {2, 0}), 1.0, 1e-9);
  EXPECT_NEAR(cosine({1, 0}, {0, 3}), 0.0, 1e-9);
  EXPECT_EQ(cosine({1, 0}, {1, 0, 0}), 0.0) << "other dimensions never match";
  EXPECT_EQ(cosine({0, 0}, {1, 0}), 0.0);
  std::vector<std::vector<float>> c{{0, 1}, {1, 1}, {1, 0}, {1, 0, 0}, {-1, 0}};
  auto best = nearest({1, 0}, c, 2, 0.5);
  ASSERT_EQ(best.size(), 2u);
  EXPECT_EQ(best[0].index, 2u);
  EXPECT_EQ(best[1].index, 1u);
  EXPECT_NEAR(best[1].score, 0.7071, 1e-3);
  EXPECT_EQ(nearest({1, 0}, c, 5, 0.8).size(), 1u);
  EXPECT_TRUE(nearest({1, 0}, c, 0, 0).empty());
}

TEST(prompts, generation_prompt_carries_rules_schema_and_feedback) {
  auto first = prompts::generate_prompt({"navbar", "Top bar"}, 1, {});
  EXPECT_NE(first.find("Component: navbar"), std::string::npos);
  EXPECT_NE(first.find("No <script>"), std::string::npos);
  EXPECT_NE(first.find("grove component"), std::string::npos);
  EXPECT_EQ(first.find("rejected by QA"), std::string::npos);
  EXPECT_EQ(first.find("{{"), std::string::npos);
  auto retry = prompts::generate_prompt({"navbar", "Top bar"}, 2, {{"script_tag", "no script"}});
  EXPECT_NE(retry.find("- [script_tag] no script"), std::string::npos);
  EXPECT_NE(prompts::plan_prompt("대시보드", "s1").find("대시보드"), std::string::npos);
}

TEST(routing, retry_delay_backs_off_with_jitter_and_honours_a_longer_retry_after_up_to_a_cap) {
  using std::chrono::milliseconds;
  EXPECT_EQ(routing::retry_delay(milliseconds{100}, milliseconds{2000}, 1, -1, 0.0), milliseconds{100});
  EXPECT_EQ(routing::retry_delay(milliseconds{100}, milliseconds{2000}, 3, -1, 0.0), milliseconds{400});
  EXPECT_EQ(routing::retry_delay(milliseconds{100}, milliseconds{2000}, 3, -1, 1.0), milliseconds{480}) << "20% jitter";
  EXPECT_EQ(routing::retry_delay(milliseconds{100}, milliseconds{2000}, 10, -1, 0.0), milliseconds{2000});
  EXPECT_EQ(routing::retry_delay(milliseconds{100}, milliseconds{2000}, 1, 1500, 0.0), milliseconds{1500});
  EXPECT_EQ(routing::retry_delay(milliseconds{100}, milliseconds{2000}, 1, 50, 0.0), milliseconds{100})
    << "a shorter Retry-After does not hurry the backoff";
  EXPECT_EQ(routing::retry_delay(milliseconds{100}, milliseconds{2000}, 1, 3600000, 0.0), routing::retry_after_cap);
}

TEST(routing, a_workers_usage_adds_to_the_job_under_its_node) {
  grove::messages::job_usage job;
  routing::account(job.total, 100, 50, 1.0, 2.0, false);
  job.by_provider.push_back(job.total);
  job.by_provider[0].provider = "gpt";
  grove::messages::job_usage w1;
  routing::account(w1.total, 10, 5, 1.0, 2.0, false);
  w1.by_provider.push_back(w1.total);
  w1.by_provider[0].provider = "gpt";
  routing::merge_usage(job, w1, "w1");
  routing::merge_usage(job, w1, "w1");
  EXPECT_EQ(job.total.requests, 3u);
  EXPECT_EQ(job.total.tokens_in, 120u);
  ASSERT_EQ(job.by_provider.size(), 2u);
  EXPECT_EQ(job.by_provider[1].provider, "gpt@w1");
  EXPECT_EQ(job.by_provider[1].requests, 2u);
  EXPECT_DOUBLE_EQ(job.total.cost_usd, (100 * 1.0 + 50 * 2.0 + 2 * (10 * 1.0 + 5 * 2.0)) / 1e6);
}
