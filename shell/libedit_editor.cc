#include "shell/libedit_editor.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <histedit.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <clocale>
#include <cstring>
#include <cwchar>
#include <type_traits>

#include "shell/signals.h"

namespace kv::shell {
namespace {

constexpr char kLiteral = '\1';  // brackets escape sequences in prompts
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

// Display width of UTF-8 text, counting code points (good enough for a
// prompt and a line of commands).
size_t Width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

// Creates the directories above `path` (0700), like mkdir -p.
void MakeParents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    ::mkdir(path.substr(0, slash).c_str(), 0700);
  }
}

// The libedit functions kv calls, resolved with dlopen() the first time a
// shell opens on a terminal: linking libedit (and libtinfo, libbsd, libmd)
// would cost every kv process ~0.5 ms of start-up (measured), and kv is
// called in shell loops.
struct LibeditApi {
  decltype(&::el_init) el_init;
  decltype(&::el_end) el_end;
  decltype(&::el_gets) el_gets;
  decltype(&::el_set) el_set;
  decltype(&::el_wset) el_wset;
  decltype(&::el_get) el_get;
  decltype(&::el_source) el_source;
  decltype(&::el_line) el_line;
  decltype(&::el_insertstr) el_insertstr;
  decltype(&::el_push) el_push;
  decltype(&::el_cursor) el_cursor;
  decltype(&::el_resize) el_resize;
  decltype(&::history_init) history_init;
  decltype(&::history_end) history_end;
  decltype(&::history) history;
};

const LibeditApi* api = nullptr;

#define KV_STR2(x) #x
#define KV_STR(x) KV_STR2(x)
constexpr const char* kLibeditSoname = "libedit.so." KV_STR(LIBEDIT_MAJOR);

Status LoadLibedit() {
  static LibeditApi loaded;
  static Status status = [] {
    void* handle = ::dlopen(kLibeditSoname, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      return Status::Unsupported(std::string("line editing is not available: ") +
                                 (why != nullptr ? why : kLibeditSoname));
    }
    bool all = true;
    auto resolve = [&](auto* fn, const char* name) {
      *fn = reinterpret_cast<std::remove_pointer_t<decltype(fn)>>(::dlsym(handle, name));
      all = all && *fn != nullptr;
    };
    resolve(&loaded.el_init, "el_init");
    resolve(&loaded.el_end, "el_end");
    resolve(&loaded.el_gets, "el_gets");
    resolve(&loaded.el_set, "el_set");
    resolve(&loaded.el_wset, "el_wset");
    resolve(&loaded.el_get, "el_get");
    resolve(&loaded.el_source, "el_source");
    resolve(&loaded.el_line, "el_line");
    resolve(&loaded.el_insertstr, "el_insertstr");
    resolve(&loaded.el_push, "el_push");
    resolve(&loaded.el_cursor, "el_cursor");
    resolve(&loaded.el_resize, "el_resize");
    resolve(&loaded.history_init, "history_init");
    resolve(&loaded.history_end, "history_end");
    resolve(&loaded.history, "history");
    if (!all) {
      return Status::Unsupported(std::string("line editing is not available: ") +
                                 kLibeditSoname + " lacks a function kv needs");
    }
    api = &loaded;
    return Status::Ok();
  }();
  return status;
}

}  // namespace

Result<std::unique_ptr<LibeditEditor>> LibeditEditor::Open(LibeditOptions options) {
  if (Status s = LoadLibedit(); !s.ok()) return s;
  return std::unique_ptr<LibeditEditor>(new LibeditEditor(std::move(options)));
}

LibeditEditor::LibeditEditor(LibeditOptions options) : options_(std::move(options)) {
  // libedit decodes and shows UTF-8 only under a UTF-8 locale. kv uses no
  // other locale-dependent function.
  std::setlocale(LC_CTYPE, "");

  el_ = api->el_init(options_.program.c_str(), options_.in, options_.out, options_.err);
  api->el_set(el_, EL_CLIENTDATA, this);
  api->el_set(el_, EL_EDITOR, "emacs");
  api->el_set(el_, EL_SIGNAL, 1);
  api->el_set(el_, EL_PROMPT, &LibeditEditor::PromptThunk);
  api->el_set(el_, EL_RPROMPT_ESC, &LibeditEditor::RightPromptThunk, kLiteral);
  api->el_set(el_, EL_GETCFN, &LibeditEditor::GetCharThunk);

  history_ = api->history_init();
  HistEvent ev;
  api->history(history_, &ev, H_SETSIZE, options_.history_size);
  api->history(history_, &ev, H_SETUNIQUE, 1);
  api->el_set(el_, EL_HIST, api->history, history_);

  // el_wset, not el_set: el_set's EL_ADDFN copies the name and the help and
  // never frees them (LeakSanitizer's leak at every exit of the shell);
  // el_wset keeps the pointers, here to literals.
  api->el_wset(el_, EL_ADDFN, L"kv-complete", L"Complete the word; twice: list the choices",
               &LibeditEditor::CompleteThunk);
  api->el_wset(el_, EL_ADDFN, L"kv-interrupt", L"Abandon the line",
               &LibeditEditor::InterruptThunk);
  api->el_wset(el_, EL_ADDFN, L"kv-accept", L"Accept the line", &LibeditEditor::AcceptThunk);
  api->el_wset(el_, EL_ADDFN, L"kv-space", L"Insert a space and update the hint",
               &LibeditEditor::SpaceThunk);
  api->el_set(el_, EL_BIND, "^I", "kv-complete", nullptr);
  api->el_set(el_, EL_BIND, "^C", "kv-interrupt", nullptr);
  api->el_set(el_, EL_BIND, "^M", "kv-accept", nullptr);
  api->el_set(el_, EL_BIND, " ", "kv-space", nullptr);
  api->el_set(el_, EL_BIND, "^R", "em-inc-search-prev", nullptr);
  // ^J stays ed-newline: kv-accept and kv-interrupt end lines through it.
  api->el_set(el_, EL_BIND, "^J", "ed-newline", nullptr);
  api->el_source(el_, nullptr);  // ~/.editrc

  if (!options_.history_path.empty()) {
    api->history(history_, &ev, H_LOAD, options_.history_path.c_str());
  }
}

LibeditEditor::~LibeditEditor() {
  if (el_ != nullptr) api->el_end(el_);
  if (history_ != nullptr) api->history_end(history_);
}

LibeditEditor* LibeditEditor::Self(editline* el) {
  void* self = nullptr;
  api->el_get(el, EL_CLIENTDATA, &self);
  return static_cast<LibeditEditor*>(self);
}

char* LibeditEditor::PromptThunk(editline* el) { return Self(el)->prompt_.data(); }

char* LibeditEditor::RightPromptThunk(editline* el) {
  return const_cast<char*>(Self(el)->RightPrompt());
}

int LibeditEditor::GetCharThunk(editline* el, wchar_t* out) { return Self(el)->GetChar(out); }

unsigned char LibeditEditor::CompleteThunk(editline* el, int) { return Self(el)->Complete(); }

unsigned char LibeditEditor::InterruptThunk(editline* el, int) {
  LibeditEditor* self = Self(el);
  self->interrupted_ = true;
  self->accepting_ = true;
  // Show "^C" at the end of what was typed, then end the line through
  // ed-newline (which moves below a line that wraps); ReadLine drops it.
  const LineInfo* li = api->el_line(el);
  api->el_cursor(el, static_cast<int>(li->lastchar - li->cursor));
  api->el_insertstr(el, "^C");
  api->el_push(el, "\n");
  return CC_REFRESH;
}

unsigned char LibeditEditor::AcceptThunk(editline* el, int) {
  // Redraw without the hint first, so that it does not stay on the screen.
  Self(el)->accepting_ = true;
  api->el_push(el, "\n");
  return CC_REFRESH;
}

unsigned char LibeditEditor::SpaceThunk(editline* el, int) {
  // A full refresh (not libedit's fast append) recomputes the hint.
  api->el_insertstr(el, " ");
  return CC_REFRESH;
}

int LibeditEditor::GetChar(wchar_t* out) {
  for (;;) {
    if (InterruptFlag().exchange(false)) {
      *out = L'\x03';  // bound to kv-interrupt
      return 1;
    }
    char byte;
    ssize_t n = ::read(fileno(options_.in), &byte, 1);
    if (n == 1) {
      wchar_t wc;
      size_t r = std::mbrtowc(&wc, &byte, 1, &mb_state_);
      if (r == static_cast<size_t>(-2)) continue;  // more bytes to come
      if (r == static_cast<size_t>(-1)) {          // not in this locale: skip
        mb_state_ = mbstate_t{};
        continue;
      }
      *out = wc;
      return 1;
    }
    if (n == 0) {
      *out = L'\0';
      return 0;
    }
    if (errno != EINTR) {
      *out = L'\0';
      return -1;
    }
    // libedit's own handler resizes on the first SIGWINCH of a line; later
    // ones of the same line reach only ours (libedit's handlers are one-shot
    // per el_gets). The next key redraws the line at the new width.
    if (ResizeFlag().exchange(false)) api->el_resize(el_);
    if (ContinueFlag().exchange(false)) {
      api->el_set(el_, EL_PREP_TERM, 1);
      api->el_set(el_, EL_REFRESH);
    }
  }
}

ReadResult LibeditEditor::ReadLine(const std::string& prompt) {
  prompt_ = prompt;
  interrupted_ = false;
  accepting_ = false;
  last_tab_.clear();
  mb_state_ = mbstate_t{};
  int count = 0;
  const char* line = api->el_gets(el_, &count);
  ReadResult r;
  if (interrupted_) {
    r.kind = ReadResult::Kind::kInterrupted;
    return r;
  }
  if (line == nullptr || count <= 0) {
    // Ctrl-D: leave the prompt's line, so what follows starts afresh.
    std::fputc('\n', options_.out);
    std::fflush(options_.out);
    r.kind = ReadResult::Kind::kEof;
    return r;
  }
  r.kind = ReadResult::Kind::kLine;
  r.line.assign(line, static_cast<size_t>(count));
  if (!r.line.empty() && r.line.back() == '\n') r.line.pop_back();
  return r;
}

unsigned char LibeditEditor::Complete() {
  if (!complete_) return CC_NORM;
  const LineInfo* li = api->el_line(el_);
  std::string before(li->buffer, li->cursor);
  std::string state(li->buffer, li->lastchar);
  state += '\0';
  state += std::to_string(li->cursor - li->buffer);
  Completion c = complete_(before);
  if (!c.insert.empty()) {
    if (api->el_insertstr(el_, c.insert.c_str()) != 0) return CC_ERROR;
    last_tab_.clear();
    if (c.choices.size() > 1 || c.truncated) {
      // Part of a word with several endings: the next Tab lists them.
      const LineInfo* after = api->el_line(el_);
      last_tab_.assign(after->buffer, after->lastchar);
      last_tab_ += '\0';
      last_tab_ += std::to_string(after->cursor - after->buffer);
    }
    return CC_REFRESH;
  }
  if (state == last_tab_) {  // a second Tab: show what there is
    last_tab_.clear();
    if (c.choices.empty() && c.usage.empty()) return CC_NORM;
    ListChoices(c);
    return CC_REDISPLAY;
  }
  last_tab_ = state;
  return CC_NORM;
}

int LibeditEditor::Columns() {
  int cols = 0;
  if (api->el_get(el_, EL_GETTC, "co", &cols) != 0 || cols <= 0) cols = 80;
  return cols;
}

void LibeditEditor::ListChoices(const Completion& c) {
  FILE* out = options_.out;
  std::fputc('\n', out);
  if (!c.usage.empty()) {
    if (options_.color) std::fputs(kDim, out);
    std::fprintf(out, "usage: %s", c.usage.c_str());
    if (options_.color) std::fputs(kReset, out);
    std::fputc('\n', out);
  }
  if (!c.choices.empty()) {
    size_t widest = 0;
    for (const std::string& s : c.choices) widest = std::max(widest, Width(s));
    const size_t cell = widest + 2;
    const size_t per_row = std::max<size_t>(1, static_cast<size_t>(Columns()) / cell);
    const size_t rows = (c.choices.size() + per_row - 1) / per_row;
    for (size_t row = 0; row < rows; ++row) {
      std::string line;
      for (size_t col = 0; col < per_row; ++col) {
        size_t i = col * rows + row;  // down the columns, like ls
        if (i >= c.choices.size()) break;
        const std::string& s = c.choices[i];
        line += s;
        if (col + 1 < per_row && i + rows < c.choices.size()) {
          line.append(cell - Width(s), ' ');
        }
      }
      std::fprintf(out, "%s\n", line.c_str());
    }
  }
  if (c.truncated) {
    if (options_.color) std::fputs(kDim, out);
    std::fprintf(out, "(the first %zu; type more to narrow)", c.choices.size());
    if (options_.color) std::fputs(kReset, out);
    std::fputc('\n', out);
  }
  std::fflush(out);
}

const char* LibeditEditor::RightPrompt() {
  right_prompt_.clear();
  if (accepting_ || !hint_) return right_prompt_.c_str();
  const LineInfo* li = api->el_line(el_);
  if (li->cursor != li->lastchar) return right_prompt_.c_str();
  std::string line(li->buffer, li->lastchar);
  std::string hint = hint_(line);
  if (hint.empty()) return right_prompt_.c_str();
  // libedit draws the right prompt only when it fits; keep it to what does.
  const size_t used = Width(prompt_) + Width(line) + 2;
  const size_t cols = static_cast<size_t>(Columns());
  if (used + 8 > cols) return right_prompt_.c_str();
  size_t room = cols - used - 1;
  if (Width(hint) > room) {
    // Cut at a code point boundary, then mark the cut.
    size_t keep = 0;
    size_t width = 0;
    while (keep < hint.size() && width + 1 < room) {
      ++keep;
      while (keep < hint.size() && (static_cast<unsigned char>(hint[keep]) & 0xC0) == 0x80) ++keep;
      ++width;
    }
    hint = hint.substr(0, keep) + "~";
  }
  if (options_.color) {
    right_prompt_ = std::string(1, kLiteral) + kDim + kLiteral + hint + kLiteral + kReset + kLiteral;
  } else {
    right_prompt_ = hint;
  }
  return right_prompt_.c_str();
}

void LibeditEditor::AddHistory(const std::string& entry) {
  HistEvent ev;
  api->history(history_, &ev, H_ENTER, entry.c_str());
  SaveHistory();
}

void LibeditEditor::SaveHistory() {
  const std::string& path = options_.history_path;
  if (path.empty()) return;
  MakeParents(path);
  // Written whole to a private temporary file, then renamed over the old
  // one: a crash never leaves half a history, and nobody else can read it.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  FILE* f = ::fdopen(fd, "w");
  if (f == nullptr) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return;
  }
  HistEvent ev;
  int saved = api->history(history_, &ev, H_SAVE_FP, f);
  bool ok = saved >= 0 && std::fflush(f) == 0;
  ok = std::fclose(f) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

}  // namespace kv::shell
