#pragma once

// The three HTTP wire formats as pure functions: build a request body and
// headers from a prompt, and read the answer and token counts back.
//   openai: POST {base}/chat/completions   (OpenAI, vLLM, llama.cpp, LM Studio, OpenRouter)
//   ollama: POST {base}/api/chat            (format: json, stream: false)
//   gemini: POST {base}/models/{model}:generateContent (responseMimeType: application/json)

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/errors.hpp"

namespace grove::logic::wire {

enum class format { openai, ollama, gemini };

/// Parses "openai", "ollama", "gemini".
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

} // namespace grove::logic::wire
