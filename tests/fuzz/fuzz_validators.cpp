// libFuzzer target: the plan and component validators and the QA rules, fed
// what a model might answer. A plan that parses is valid by construction;
// a component that parses satisfies its schema; QA never crashes, and what
// it passes carries no script, document tag or key.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "logic/qa_rules.hpp"
#include "messages/codec.hpp"
#include "messages/names.hpp"
#include "messages/secrets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (auto p = grove::messages::parse_plan(text)) {
    if (!grove::messages::validate_plan(*p)) __builtin_trap();
    for (auto& c : p->components) {
      if (!grove::messages::is_valid_name(c.name)) __builtin_trap();
    }
    (void)grove::messages::parse_plan(grove::messages::plan_to_text(*p)).value(); // round trip holds
  }
  (void)grove::messages::parse_component(text);
  static const std::vector<std::string> secrets{"sk-fuzz-7Hq2ZkP9wXc4"};
  auto violations = grove::logic::qa::check_artifact(text, "login_form", secrets);
  if (violations.empty() && grove::messages::contains_secret(text, secrets)) __builtin_trap();
  (void)grove::messages::redact(text, secrets);
  (void)grove::logic::qa::decode_entities(text);
  return 0;
}
