#include "actors/prompts.hpp"

#include "messages/schema.hpp"

namespace grove::actors::prompts {

namespace {

const char* qa_rules_text =
  "Rules (a QA gate rejects any answer that breaks one):\n"
  "- Output one JSON object only, valid against the component schema below.\n"
  "- \"html\" is a fragment: no <html>, <head>, <body> or <!doctype>.\n"
  "- No <script>, no iframe/object/embed/base/meta elements.\n"
  "- No on*= event-handler attributes, no javascript:/vbscript:/data:text/html URLs.\n"
  "- \"css\" contains no '<', expression(), javascript:, behavior:, -moz-binding or @import;\n"
  "  scope every rule to the class g-<component>.\n";

} // namespace

std::string plan_prompt(std::string_view request) {
  std::string out = "You are the customer agent of a web page builder. List the UI components the request "
                    "needs. Never write code. Answer with one JSON object valid against this schema:\n";
  out += messages::schema_text(messages::schema_id::plan);
  out += "\nRequest: ";
  out += request;
  out += "\n";
  return out;
}

std::string generate_prompt(const messages::component_spec& spec, uint32_t attempt,
                            const std::vector<messages::violation>& feedback) {
  std::string out = "You are a generation agent. Produce exactly one UI component as JSON.\n";
  out += "Component: " + spec.name + "\n";
  out += "Description: " + spec.description + "\n";
  out += "Attempt: " + std::to_string(attempt) + "\n";
  out += qa_rules_text;
  out += "Component schema:\n";
  out += messages::schema_text(messages::schema_id::component);
  out += "\n";
  if (!feedback.empty()) {
    out += "Your previous answer was rejected by QA. Fix every point:\n";
    for (auto& v : feedback) {
      out += "- [" + v.code + "] " + v.message + "\n";
    }
  }
  return out;
}

} // namespace grove::actors::prompts
