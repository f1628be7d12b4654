#pragma once

// Conversions between grove failures and CAF errors, at actor boundaries.

#include <optional>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include "messages/errors.hpp"

namespace grove::actors {

/// A CAF error in grove's category carrying the failure's message.
inline caf::error to_caf(const messages::failure& f) {
  return caf::error{static_cast<uint8_t>(f.code), caf::atom("grove"), caf::make_message(f.message)};
}

/// A CAF error built from a code and message.
inline caf::error make_caf_error(messages::errc code, std::string message) {
  return to_caf(messages::failure{code, std::move(message)});
}

/// Answers a promise that a node service still holds as it goes away (killed,
/// crashed or stopped): the requester learns at once (`errc::service_down`)
/// and asks the restarted service, instead of waiting for its timeout. CAF
/// 0.17 drops a dead actor's unanswered promises silently.
template <class Promise>
void answer_service_down(Promise& rp, const char* service) {
  if (rp.pending()) {
    rp.deliver(make_caf_error(messages::errc::service_down, std::string{service} + " stopped before answering"));
  }
}

/// The grove failure a CAF error carries, or none for CAF's own errors.
inline std::optional<messages::failure> from_caf(const caf::error& err) {
  if (err.category() != caf::atom("grove")) return std::nullopt;
  messages::failure f{static_cast<messages::errc>(err.code()), {}};
  if (err.context().match_elements<std::string>()) f.message = err.context().get_as<std::string>(0);
  return f;
}

} // namespace grove::actors
