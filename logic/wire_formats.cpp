#include "logic/wire_formats.hpp"

#include <cmath>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace grove::logic::wire {

using json = nlohmann::json;
using messages::errc;
using messages::make_failure;

namespace {

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

uint64_t count(const json& obj, const char* key) {
  auto i = obj.find(key);
  return i != obj.end() && i->is_number_unsigned() ? i->get<uint64_t>() : 0;
}

} // namespace

messages::result<format> format_from(std::string_view type) {
  if (type == "openai") return format::openai;
  if (type == "ollama") return format::ollama;
  if (type == "gemini") return format::gemini;
  if (type == "anthropic") return format::anthropic;
  return make_failure(errc::invalid_config, "no HTTP wire format \"" + std::string{type} + "\"");
}

outgoing make_request(format f, const std::string& base_url, const std::string& model, const std::string& key,
                      const std::string& system, const std::string& prompt) {
  outgoing out;
  auto base = trim_slash(base_url);
  json body;
  switch (f) {
    case format::openai:
      out.url = base + "/chat/completions";
      if (!key.empty()) out.headers.emplace_back("Authorization", "Bearer " + key);
      body = {
        {"model", model},
        {"messages", json::array({{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", prompt}}})},
        {"response_format", {{"type", "json_object"}}},
        {"temperature", 0.2}};
      break;
    case format::ollama:
      out.url = base + "/api/chat";
      body = {
        {"model", model},
        {"messages", json::array({{{"role", "system"}, {"content", system}}, {{"role", "user"}, {"content", prompt}}})},
        {"format", "json"},
        {"stream", false},
        {"options", {{"temperature", 0.2}}}};
      break;
    case format::gemini:
      out.url = base + "/models/" + model + ":generateContent";
      // The key goes in a header, never in the URL, so it cannot end up in an error message.
      if (!key.empty()) out.headers.emplace_back("x-goog-api-key", key);
      body = {{"systemInstruction", {{"parts", json::array({{{"text", system}}})}}},
              {"contents", json::array({{{"role", "user"}, {"parts", json::array({{{"text", prompt}}})}}})},
              {"generationConfig", {{"responseMimeType", "application/json"}, {"temperature", 0.2}}}};
      break;
    case format::anthropic:
      out.url = base + "/v1/messages";
      if (!key.empty()) out.headers.emplace_back("x-api-key", key);
      out.headers.emplace_back("anthropic-version", anthropic_version);
      // The assistant's turn starts with "{": the model can only continue a JSON object.
      body = {{"model", model},
              {"max_tokens", 8192},
              {"system", system},
              {"messages", json::array({{{"role", "user"}, {"content", prompt}}, {{"role", "assistant"}, {"content", "{"}}})},
              {"temperature", 0.2}};
      break;
  }
  out.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

messages::result<answer> parse_response(format f, std::string_view body) {
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::exception& e) { // parse errors, and numbers out of range (1e999)
    return make_failure(errc::model, std::string{"malformed response envelope (not JSON): "} + e.what());
  }
  answer out;
  try {
    switch (f) {
      case format::openai: {
        auto& msg = doc.at("choices").at(0).at("message");
        out.text = msg.at("content").get<std::string>();
        if (auto u = doc.find("usage"); u != doc.end() && u->is_object()) {
          out.tokens_in = count(*u, "prompt_tokens");
          out.tokens_out = count(*u, "completion_tokens");
        }
        break;
      }
      case format::ollama:
        out.text = doc.at("message").at("content").get<std::string>();
        out.tokens_in = count(doc, "prompt_eval_count");
        out.tokens_out = count(doc, "eval_count");
        break;
      case format::gemini: {
        auto& parts = doc.at("candidates").at(0).at("content").at("parts");
        for (auto& p : parts) out.text += p.at("text").get<std::string>();
        if (auto u = doc.find("usageMetadata"); u != doc.end() && u->is_object()) {
          out.tokens_in = count(*u, "promptTokenCount");
          out.tokens_out = count(*u, "candidatesTokenCount");
        }
        break;
      }
      case format::anthropic: {
        for (auto& part : doc.at("content")) {
          if (part.at("type") == "text") out.text += part.at("text").get<std::string>();
        }
        // The answer continues the prefilled "{". A continuation never starts
        // with "{" (a key or "}" follows it), so a text that does is whole: a
        // server that ignored the prefill.
        auto first = out.text.find_first_not_of(" \t\r\n");
        if (first == std::string::npos || out.text[first] != '{') out.text.insert(out.text.begin(), '{');
        if (auto u = doc.find("usage"); u != doc.end() && u->is_object()) {
          out.tokens_in = count(*u, "input_tokens");
          out.tokens_out = count(*u, "output_tokens");
        }
        break;
      }
    }
  } catch (const json::exception& e) {
    return make_failure(errc::model, std::string{"unexpected response envelope: "} + e.what());
  }
  return out;
}

outgoing make_embed_request(format f, const std::string& base_url, const std::string& model, const std::string& key,
                            const std::vector<std::string>& inputs) {
  outgoing out;
  auto base = trim_slash(base_url);
  out.url = base + (f == format::ollama ? "/api/embed" : "/embeddings");
  if (f == format::openai && !key.empty()) out.headers.emplace_back("Authorization", "Bearer " + key);
  json body = {{"model", model}, {"input", inputs}};
  out.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return out;
}

messages::result<std::vector<std::vector<float>>> parse_embed_response(format f, std::string_view body,
                                                                       size_t inputs) {
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::exception& e) {
    return make_failure(errc::model, std::string{"malformed embeddings envelope (not JSON): "} + e.what());
  }
  std::vector<std::vector<float>> out(inputs);
  auto read_vector = [](const json& v, std::vector<float>& into) {
    for (auto& x : v) {
      auto d = x.get<double>();
      if (!std::isfinite(d)) throw std::out_of_range{"not a finite number"};
      into.push_back(static_cast<float>(d));
    }
  };
  try {
    if (f == format::ollama) {
      auto& all = doc.at("embeddings");
      if (!all.is_array() || all.size() != inputs) {
        return make_failure(errc::model, "embeddings envelope: " + std::to_string(inputs) + " vectors expected");
      }
      for (size_t i = 0; i < inputs; ++i) read_vector(all.at(i), out[i]);
    } else {
      auto& data = doc.at("data");
      if (!data.is_array() || data.size() != inputs) {
        return make_failure(errc::model, "embeddings envelope: " + std::to_string(inputs) + " vectors expected");
      }
      for (size_t i = 0; i < inputs; ++i) {
        auto& item = data.at(i);
        // Ordered by "index" when the server gives one (OpenAI does), else by position.
        size_t at = item.contains("index") ? item.at("index").get<size_t>() : i;
        if (at >= inputs || !out[at].empty()) return make_failure(errc::model, "embeddings envelope: bad index");
        read_vector(item.at("embedding"), out[at]);
      }
    }
  } catch (const std::exception& e) { // json::exception, and non-finite numbers
    return make_failure(errc::model, std::string{"unexpected embeddings envelope: "} + e.what());
  }
  for (auto& v : out) {
    if (v.empty() || v.size() != out.front().size()) {
      return make_failure(errc::model, "embeddings envelope: vectors empty or of different dimensions");
    }
  }
  return out;
}

} // namespace grove::logic::wire
