#pragma once

// The QA gate's rules as pure functions. Each violation has a stable code:
//   invalid_json, schema, name_mismatch, document_structure, script_tag,
//   embedded_content, event_handler, javascript_url, css_injection,
//   control_character, secret_leak.

#include <string>
#include <string_view>
#include <vector>

#include "messages/types.hpp"

namespace grove::logic::qa {

using messages::violation;

/// `<html>`, `<body>`, `<head>` (any case, whitespace, attributes, closing
/// tags) or a doctype: a component is a fragment, never a document.
std::vector<violation> check_document_structure(std::string_view html);

/// `<script>` in any spelling, and elements that embed or redirect active
/// content (iframe, object, embed, base, meta, frame, frameset, applet).
std::vector<violation> check_active_elements(std::string_view html);

/// `on*=` event-handler attributes on any tag, however separated.
std::vector<violation> check_event_handlers(std::string_view html);

/// `javascript:`/`vbscript:`/`data:text/html` URLs in attributes, after
/// decoding character references and dropping the whitespace browsers ignore.
std::vector<violation> check_urls(std::string_view html);

/// CSS that escapes its `<style>` element or runs script: `<`, `expression(`,
/// `javascript:`, `behavior:`, `-moz-binding`, `@import`.
std::vector<violation> check_css(std::string_view css);

/// An API key, or any long fragment of one in any case, in `text`, in its
/// JSON-decoded form or behind HTML character references: a component never
/// carries credentials. The message never quotes what it found.
std::vector<violation> check_secrets(std::string_view text, const std::vector<std::string>& secrets);

/// A component's markup and style as its artifact carries them.
struct artifact_parts {
  std::string html;
  std::string css;
};

/// Every rule on a component artifact (JSON text): it must parse, satisfy
/// component.schema.json, carry `expected_name`, contain none of `secrets`,
/// and pass every HTML/CSS rule. `parts`, when given, gets what was checked
/// (empty strings for fields that are not text), so a reviewer after the
/// rules need not parse the artifact again.
std::vector<violation> check_artifact(std::string_view artifact, std::string_view expected_name,
                                      const std::vector<std::string>& secrets = {}, artifact_parts* parts = nullptr);

/// Decodes HTML character references (`&#106;`, `&#x6A;`, `&colon;` ...),
/// as a browser does inside an attribute value.
std::string decode_entities(std::string_view s);

} // namespace grove::logic::qa
