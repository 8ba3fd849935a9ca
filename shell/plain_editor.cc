#include "shell/plain_editor.h"

#include <string>

namespace kv::shell {

ReadResult PlainEditor::ReadLine(const std::string& prompt) {
  if (prompt_out_ != nullptr) {
    *prompt_out_ << prompt;
    prompt_out_->flush();
  }
  ReadResult r;
  // A last line without a newline still counts; nothing at all is the end.
  if (!std::getline(in_, r.line)) {
    r.kind = ReadResult::Kind::kEof;
    return r;
  }
  if (!r.line.empty() && r.line.back() == '\r') r.line.pop_back();
  r.kind = ReadResult::Kind::kLine;
  return r;
}

}  // namespace kv::shell
