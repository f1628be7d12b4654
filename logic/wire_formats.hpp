#pragma once

// The four HTTP wire formats as pure functions: build a request body and
// headers from a prompt, and read the answer and token counts back.
//   openai:    POST {base}/chat/completions   (OpenAI, vLLM, llama.cpp, LM Studio, OpenRouter)
//   ollama:    POST {base}/api/chat            (format: json, stream: false)
//   gemini:    POST {base}/models/{model}:generateContent (responseMimeType: application/json)
//   anthropic: POST {base}/v1/messages         (x-api-key, anthropic-version; the answer is
//              prefilled with "{", the API's way to a JSON-only answer, and "{" + text read back)

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/errors.hpp"

namespace grove::logic::wire {

enum class format { openai, ollama, gemini, anthropic };

/// Parses "openai", "ollama", "gemini", "anthropic".
messages::result<format> format_from(std::string_view type);

/// What to send.
struct outgoing {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers; ///< may carry the key: never log these
  std::string body;
};

/// What came back, once the envelope is understood.
struct answer {
  std::string text;
  uint64_t tokens_in = 0;
  uint64_t tokens_out = 0;
};

/// The request for one prompt. `key` may be empty (local servers).
outgoing make_request(format f, const std::string& base_url, const std::string& model, const std::string& key,
                      const std::string& system, const std::string& prompt);

/// Reads a 2xx body; a body that is not the format's JSON envelope is an error.
messages::result<answer> parse_response(format f, std::string_view body);

// Embeddings, for the memory of past mistakes:
//   openai: POST {base}/embeddings  {"model", "input": [...]} -> {"data": [{"index", "embedding"}]}
//   ollama: POST {base}/api/embed   {"model", "input": [...]} -> {"embeddings": [[...]]}

/// The version header every Anthropic request carries.
inline constexpr const char* anthropic_version = "2023-06-01";

/// The request embedding `inputs` (openai or ollama; the others have no such endpoint here).
outgoing make_embed_request(format f, const std::string& base_url, const std::string& model, const std::string& key,
                            const std::vector<std::string>& inputs);

/// Reads a 2xx embeddings body: one vector per input, in input order, all of
/// one non-zero dimension with finite values; anything else is an error.
messages::result<std::vector<std::vector<float>>> parse_embed_response(format f, std::string_view body,
                                                                       size_t inputs);

} // namespace grove::logic::wire
