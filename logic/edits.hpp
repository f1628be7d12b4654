#pragma once

// The builtin provider's edits: a small, deterministic set of changes to a
// component in the library, asked in English or Korean, so that editing works
// without a model. Anything else is an error that says a model is needed.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "messages/errors.hpp"

namespace grove::logic::builtin {

enum class edit_kind { add_field, remove_field, set_title, set_button, set_accent };

/// One edit a request asks for.
struct edit {
  edit_kind kind = edit_kind::add_field;
  std::string component; ///< the component it targets (a normalised name)
  std::string value;     ///< the field's label, the new title or button text, or the colour
};

/// The longest request (bytes, whitespace runs counted as one space) read as
/// an edit: an edit is one sentence; a longer request is planned as new work.
constexpr size_t max_edit_request = 400;

/// The edit `request` asks for, when it is one the builtin provider knows:
/// add a field to a form ("add a phone field to the contact form", "문의 폼에
/// 전화번호 필드 추가해줘"), remove one ("remove the email field from the
/// login form", "로그인 폼에서 이메일 필드 삭제해줘"), change the title or the
/// button text ("change the title of the hero to \"Welcome\"", "히어로 제목을
/// 환영합니다로 바꿔줘") or the accent colour ("make the navbar green",
/// "내비게이션 색을 빨간색으로 바꿔줘").
std::optional<edit> parse_edit(std::string_view request);

/// The component a request to change an existing one targets, when it reads
/// as an edit (change, modify, update, rewrite, rename …, remove … from, add …
/// to the, make the …; 바꿔, 수정, 변경, 삭제, 고쳐 …) whether or not
/// parse_edit knows how to apply it; empty when it does not read as one.
std::string edit_target(std::string_view request);

/// `artifact` (a component's JSON) with the edit `instruction` (a request
/// parse_edit understands) applied; its version is left to the caller. An
/// instruction it does not understand, or that does not fit the component
/// (no form to add a field to, no such field), is an error naming why.
messages::result<std::string> apply_edit(std::string_view artifact, std::string_view instruction);

} // namespace grove::logic::builtin
