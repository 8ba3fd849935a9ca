#include "cmd/kv/repl_adapter.h"

#include <algorithm>
#include <cctype>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cmd/kv/app.h"
#include "cmd/kv/config.h"
#include "cmd/kv/exit_codes.h"
#include "cmd/kv/terminal_text.h"
#include "common/json_flat.h"
#include "common/json_text.h"

namespace kv::cli {
namespace {

// Where a command line stands after its complete words: the deepest
// (sub)command named, the positional arguments given, the flags given, and
// the option whose value comes next (if any).
struct Walk {
  CLI::App* command = nullptr;
  std::vector<std::string> positionals;
  std::vector<const CLI::Option*> given;
  const CLI::Option* awaiting_value = nullptr;
  // The global flags the words give, with their values ({"--url", "X"}),
  // to parse on top of the session before asking the backend for keys.
  std::vector<std::string> global_words;
};

bool TakesValue(const CLI::Option* opt) { return opt->get_items_expected_max() > 0; }

bool Visible(const CLI::App* sub) { return !sub->get_group().empty(); }

// The option `word` (-x, --xx) names in `app` or the apps above it (global
// flags are inherited: fallthrough), and in *owner the app that declares it.
const CLI::Option* FindOption(CLI::App* app, const std::string& word, CLI::App** owner) {
  for (CLI::App* a = app; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      if (opt->nonpositional() && opt->check_name(word)) {
        *owner = a;
        return opt;
      }
    }
  }
  return nullptr;
}

CLI::App* FindSubcommand(CLI::App* app, const std::string& name) {
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) {
    if (sub->check_name(name)) return sub;
  }
  return nullptr;
}

Walk WalkWords(CLI::App* root, const std::vector<std::string>& words) {
  Walk w;
  w.command = root;
  bool only_positionals = false;
  bool value_is_global = false;
  for (const std::string& word : words) {
    if (w.awaiting_value != nullptr) {
      if (value_is_global) w.global_words.push_back(word);
      w.awaiting_value = nullptr;
      continue;
    }
    if (!only_positionals && word == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && word.size() > 1 && word[0] == '-') {
      std::string name = word.substr(0, word.find('='));
      CLI::App* owner = nullptr;
      const CLI::Option* opt = FindOption(w.command, name, &owner);
      if (opt != nullptr) {
        w.given.push_back(opt);
        value_is_global = owner == root;
        if (value_is_global) w.global_words.push_back(word);
        if (TakesValue(opt) && name.size() == word.size()) w.awaiting_value = opt;
      }
      continue;
    }
    if (w.positionals.empty()) {
      if (CLI::App* sub = FindSubcommand(w.command, word)) {
        w.command = sub;
        continue;
      }
    }
    w.positionals.push_back(word);
  }
  // A global flag still waiting for its value (-n <Tab>) sets nothing yet.
  if (w.awaiting_value != nullptr && value_is_global) w.global_words.pop_back();
  return w;
}

std::vector<const CLI::Option*> Positionals(const CLI::App* app) {
  return app->get_options([](const CLI::Option* o) { return o->get_positional(); });
}

// The positional argument that the next word fills, or nullptr.
const CLI::Option* NextPositional(const CLI::App* app, size_t given) {
  size_t index = 0;
  for (const CLI::Option* p : Positionals(app)) {
    int max = p->get_items_expected_max();
    bool many = max > 1 || max < 0;
    if (many || given == index) return p;
    ++index;
  }
  return nullptr;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// What an option's value is called in a usage line: its type_name when the
// command set one, else (CLI11's TEXT) the last word of its long name
// (--if-match MATCH), or N for numbers.
std::string ValueName(const std::string& type, const std::string& lname) {
  if (type == "INT" || type == "UINT" || type == "FLOAT" || type == "NUMBER") return "N";
  if (!type.empty() && type != "TEXT") return type;
  return Upper(lname.substr(lname.rfind('-') + 1));
}

std::string CommandPath(const CLI::App* app) {
  std::string path;
  for (const CLI::App* a = app; a != nullptr && a->get_parent() != nullptr; a = a->get_parent()) {
    path = path.empty() ? a->get_name() : a->get_name() + " " + path;
  }
  return path;
}

void AddMatching(const std::vector<std::string>& all, const std::string& partial,
                 std::vector<std::string>* out) {
  for (const std::string& s : all) {
    if (s.starts_with(partial)) out->push_back(s);
  }
}

std::string NameForUrl(const std::string& url) {
  if (url.empty()) return "local";
  if (url.starts_with("unix://") || url.starts_with("http://")) return "kvd";
  if (url.starts_with("keyvalue.dev") || url.starts_with("kvdev+")) return "keyvalue.dev";
  if (url.starts_with("etcd")) return "etcd";
  if (url.starts_with("invoke+")) return "invoke";
  return "?";
}

bool LooksLikeUrl(const std::string& target) {
  return target.find("://") != std::string::npos || target == "keyvalue.dev";
}

// --- pretty JSON -----------------------------------------------------------

using OrderedJson = nlohmann::ordered_json;

std::string Paint(const std::string& text, const char* sgr, bool color) {
  if (!color) return text;
  return std::string("\x1b[") + sgr + "m" + text + "\x1b[0m";
}

std::string Scalar(const OrderedJson& j) {
  return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

void Emit(const OrderedJson& j, int indent, bool color, std::string* out) {
  const std::string pad(static_cast<size_t>(indent) + 2, ' ');
  if (j.is_object()) {
    if (j.empty()) {
      *out += "{}";
      return;
    }
    *out += "{\n";
    size_t i = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++i) {
      *out += pad + Paint(Scalar(OrderedJson(it.key())), "34;1", color) + ": ";
      Emit(it.value(), indent + 2, color, out);
      *out += i + 1 < j.size() ? ",\n" : "\n";
    }
    *out += std::string(static_cast<size_t>(indent), ' ') + "}";
  } else if (j.is_array()) {
    if (j.empty()) {
      *out += "[]";
      return;
    }
    *out += "[\n";
    for (size_t i = 0; i < j.size(); ++i) {
      *out += pad;
      Emit(j[i], indent + 2, color, out);
      *out += i + 1 < j.size() ? ",\n" : "\n";
    }
    *out += std::string(static_cast<size_t>(indent), ' ') + "]";
  } else if (j.is_string()) {
    *out += Paint(Scalar(j), "32", color);
  } else if (j.is_number()) {
    *out += Paint(Scalar(j), "36", color);
  } else {
    *out += Paint(Scalar(j), "35", color);  // true, false, null
  }
}

// Everything through `inner`, but JSON documents indented (and coloured).
class ReplPrinter final : public Printer {
 public:
  ReplPrinter(std::unique_ptr<Printer> inner, std::ostream& out, bool color)
      : inner_(std::move(inner)), out_(out), color_(color) {}

  void Value(std::string_view key, const client::Value& v) override {
    if (IsJsonContentType(v.meta.content_type) && WritePretty(v.bytes)) return;
    inner_->Value(key, v);
  }
  void ValueOfMany(std::string_view key, const client::Value* v) override {
    inner_->ValueOfMany(key, v);
  }
  void Document(std::string_view key, std::string_view json) override {
    if (!WritePretty(json)) inner_->Document(key, json);
  }
  void Meta(const client::KeyMeta& m) override { inner_->Meta(m); }
  void Written(const client::KeyMeta& m) override { inner_->Written(m); }
  void Deleted(std::string_view key, bool existed) override { inner_->Deleted(key, existed); }
  void Exists(std::string_view key, bool exists) override { inner_->Exists(key, exists); }
  void Listed(const client::ListedKey& k) override { inner_->Listed(k); }
  bool NextCursor(const std::string& cursor) override { return inner_->NextCursor(cursor); }
  void Ttl(const client::KeyMeta& m) override { inner_->Ttl(m); }
  void Counter(std::string_view key, std::string_view value) override {
    inner_->Counter(key, value);
  }
  bool Cleared(uint64_t deleted) override { return inner_->Cleared(deleted); }
  bool Imported(uint64_t imported, uint64_t skipped) override {
    return inner_->Imported(imported, skipped);
  }
  void Event(const client::Event& e) override { inner_->Event(e); }
  void Stats(const std::vector<client::NamespaceStats>& s) override { inner_->Stats(s); }
  void TokenCreated(const client::TokenInfo& t) override { inner_->TokenCreated(t); }
  void Tokens(const std::vector<client::TokenInfo>& t) override { inner_->Tokens(t); }
  void TokenRevoked(std::string_view id) override { inner_->TokenRevoked(id); }
  void WebhookAdded(const client::WebhookInfo& w) override { inner_->WebhookAdded(w); }
  void Webhooks(const std::vector<client::WebhookInfo>& w, bool detail) override {
    inner_->Webhooks(w, detail);
  }
  void WebhookRemoved(std::string_view id) override { inner_->WebhookRemoved(id); }
  void Profiles(const std::vector<ProfileRow>& p) override { inner_->Profiles(p); }
  void Daemon(const DaemonInfo& info) override { inner_->Daemon(info); }
  void Version(std::string_view version) override { inner_->Version(version); }

 private:
  bool WritePretty(std::string_view json) {
    std::optional<std::string> pretty = PrettyJson(json, color_);
    if (!pretty) return false;
    *pretty += '\n';
    out_.write(pretty->data(), static_cast<std::streamsize>(pretty->size()));
    return true;
  }

  std::unique_ptr<Printer> inner_;
  std::ostream& out_;
  bool color_;
};

}  // namespace

std::optional<std::string> PrettyJson(std::string_view json, bool color) {
  OrderedJson doc = kv::json::ParseTree<OrderedJson>(json);
  if (doc.is_discarded() || !doc.is_structured()) return std::nullopt;
  std::string out;
  Emit(doc, 0, color, &out);
  return out;
}

std::unique_ptr<Printer> MakeReplPrinter(std::unique_ptr<Printer> inner, std::ostream& out,
                                         bool color) {
  return std::make_unique<ReplPrinter>(std::move(inner), out, color);
}

ReplAdapter::ReplAdapter(Context& ctx) : ctx_(ctx), session_(ctx.flags()) {
  ctx_.set_printer_factory([](OutputMode mode, std::ostream& out, bool color) {
    std::unique_ptr<Printer> printer = MakePrinter(mode, out, color);
    if (mode != OutputMode::kTable) return printer;
    return MakeReplPrinter(std::move(printer), out, color);
  });
}

ReplAdapter::~ReplAdapter() { ctx_.set_printer_factory(nullptr); }

void ReplAdapter::ToSession() {
  ctx_.Reset();
  ctx_.flags() = session_;
}

int ReplAdapter::Run(const std::vector<std::string>& words) {
  int code = RunWords(ctx_, words, session_);
  // A command that read stdin to its end (set KEY with no value, import)
  // leaves it at EOF; the terminal goes on. And a write cut by Ctrl-C must
  // not silence the streams for the rest of the session.
  ctx_.in().clear();
  ctx_.out().clear();
  ctx_.err().clear();
  return code;
}

int ReplAdapter::Open() {
  ToSession();
  Result<client::Backend*> backend = ctx_.backend();
  if (!backend.ok()) {
    ctx_.PrintError(backend.status().message());
    return ExitCodeFor(backend.status());
  }
  backend_name_ = (*backend)->Name();
  return kExitOk;
}

int ReplAdapter::Use(const std::string& ns, const std::string& app) {
  GlobalFlags next = session_;
  next.ns = ns;
  next.app = app;
  ctx_.Reset();
  ctx_.flags() = next;
  Result<Settings> settings = ctx_.settings();
  if (!settings.ok()) {
    ctx_.PrintError(settings.status().message());
    return ExitCodeFor(settings.status());
  }
  session_ = next;
  return kExitOk;
}

int ReplAdapter::Connect(const std::string& target, const std::string& token) {
  GlobalFlags next = session_;
  next.ns.clear();
  next.app.clear();
  next.token = token;
  next.url.clear();
  next.profile.clear();
  if (target == "local") {
    // What kv uses with no --url and no -p: KV_URL, else the current
    // profile, else the local kvd.
  } else if (LooksLikeUrl(target)) {
    next.url = target;
  } else {
    Result<Config> config = LoadConfig(ctx_.ConfigPath());
    if (!config.ok()) {
      ctx_.PrintError(config.status().message());
      return ExitCodeFor(config.status());
    }
    if (config->Find(target) == nullptr) {
      return UsageError("no profile named " + target +
                        " (kv profile ls), and not a URL (unix:///path, http://host:port, ...)");
    }
    next.profile = target;
  }
  ctx_.Reset();
  ctx_.flags() = next;
  Result<client::Backend*> backend = ctx_.backend();
  Status status = backend.status();
  if (backend.ok()) {
    // Ask something small, so that a wrong address or token shows now.
    Result<std::vector<client::NamespaceStats>> probe = (*backend)->Stats(false);
    Status::Code code = probe.status().code();
    if (code == Status::Code::kUnavailable || code == Status::Code::kTimeout ||
        code == Status::Code::kUnauthorized) {
      status = probe.status();
    }
  }
  if (!status.ok()) {
    ctx_.PrintError("cannot connect to " + target + ": " + status.message());
    return ExitCodeFor(status);
  }
  session_ = next;
  backend_name_ = (*backend)->Name();
  return kExitOk;
}

int ReplAdapter::UsageError(const std::string& message) {
  ctx_.PrintError(message);
  return kExitUsage;
}

std::string ReplAdapter::PromptLabel() {
  ToSession();
  Result<Settings> settings = ctx_.settings();
  if (!settings.ok()) return "?";
  const client::ConnectOptions& c = settings->connect;
  std::string label = backend_name_.empty() ? NameForUrl(c.url) : backend_name_;
  label += ":" + c.scope.ns;
  if (c.scope.app != "default") label += "/" + c.scope.app;
  return label;
}

void ReplAdapter::ToLine(const std::vector<std::string>& global_words) {
  ToSession();
  if (global_words.empty()) return;
  std::unique_ptr<CLI::App> app = BuildApp(ctx_);  // resets the flags: set them again
  ctx_.flags() = session_;
  std::vector<std::string> reversed(global_words.rbegin(), global_words.rend());
  try {
    app->parse(reversed);
  } catch (const CLI::ParseError&) {
    // A flag being typed (--timeout 2) may not parse yet: the session's stand.
    ToSession();
  }
}

std::vector<std::string> ReplAdapter::Keys(const std::string& prefix,
                                           const std::vector<std::string>& global_words,
                                           bool* truncated) {
  ToLine(global_words);
  Result<client::Backend*> backend = ctx_.backend();
  if (!backend.ok() || !(*backend)->Caps().list) return {};
  client::ListRequest request;
  request.prefix = prefix;
  request.limit = kMaxKeyChoices;
  Result<client::ListPage> page = (*backend)->List(request);
  if (!page.ok()) return {};
  std::vector<std::string> keys;
  for (const client::ListedKey& k : page->keys) {
    // A key with control characters is neither listed raw on the terminal
    // nor typed into the line: the shell's words cannot spell it anyway.
    if (k.meta.key.starts_with(prefix) && ShowsAsIs(k.meta.key, /*lines=*/false)) {
      keys.push_back(k.meta.key);
    }
  }
  *truncated = !page->next_cursor.empty();
  return keys;
}

std::vector<std::string> ReplAdapter::Namespaces(const std::vector<std::string>& global_words) {
  ToLine(global_words);
  std::vector<std::string> names;
  Result<client::Backend*> backend = ctx_.backend();
  if (!backend.ok()) return names;
  Result<std::vector<client::NamespaceStats>> stats = (*backend)->Stats(/*all=*/true);
  if (!stats.ok()) return names;
  for (const client::NamespaceStats& s : *stats) names.push_back(s.ns);
  return names;
}

std::vector<std::string> ReplAdapter::ProfileNames() {
  Result<Config> config = LoadConfig(ctx_.ConfigPath());
  std::vector<std::string> names;
  if (!config.ok()) return names;
  for (const Profile& p : config->profiles) names.push_back(p.name);
  return names;
}

shell::Candidates ReplAdapter::Complete(const std::vector<std::string>& words,
                                        const std::string& partial) {
  shell::Candidates c;
  std::unique_ptr<CLI::App> root = BuildApp(ctx_);
  Walk w = WalkWords(root.get(), words);

  if (w.awaiting_value != nullptr) {
    const CLI::Option* opt = w.awaiting_value;
    if (opt->check_name("--output")) AddMatching({"json", "raw", "table"}, partial, &c.words);
    if (opt->check_name("--profile")) AddMatching(ProfileNames(), partial, &c.words);
    if (opt->check_name("--namespace")) AddMatching(Namespaces(w.global_words), partial, &c.words);
    if (opt->check_name("--prefix")) c.words = Keys(partial, w.global_words, &c.truncated);
    const std::string type = opt->get_type_name();
    c.files = type == "PATH" || type == "FILE";
    std::sort(c.words.begin(), c.words.end());
    c.words.erase(std::unique(c.words.begin(), c.words.end()), c.words.end());
    return c;
  }

  if (partial.starts_with("-")) {
    for (CLI::App* a = w.command; a != nullptr; a = a->get_parent()) {
      for (const CLI::Option* opt : a->get_options()) {
        if (opt->get_group().empty()) continue;  // hidden
        for (const std::string& n : opt->get_lnames()) {
          if (("--" + n).starts_with(partial)) c.words.push_back("--" + n);
        }
        if (partial.starts_with("--")) continue;
        for (const std::string& n : opt->get_snames()) {
          if (("-" + n).starts_with(partial)) c.words.push_back("-" + n);
        }
      }
    }
    std::sort(c.words.begin(), c.words.end());
    c.words.erase(std::unique(c.words.begin(), c.words.end()), c.words.end());
    return c;
  }

  if (w.positionals.empty()) {
    std::vector<std::string> names;
    for (CLI::App* sub : w.command->get_subcommands([](CLI::App*) { return true; })) {
      if (Visible(sub)) names.push_back(sub->get_name());
    }
    if (!names.empty()) {
      AddMatching(names, partial, &c.words);
      std::sort(c.words.begin(), c.words.end());
      return c;
    }
  }

  const CLI::Option* next = NextPositional(w.command, w.positionals.size());
  if (next == nullptr) return c;
  const std::string name = next->get_name();
  if (name == "key" || name == "keys" || name == "prefix") {
    c.words = Keys(partial, w.global_words, &c.truncated);
  } else if (name == "shell") {  // completion SHELL
    AddMatching({"bash", "fish", "zsh"}, partial, &c.words);
  } else if (name == "command") {  // help COMMAND...
    CLI::App* at = root.get();
    for (const std::string& p : w.positionals) {
      at = at != nullptr ? FindSubcommand(at, p) : nullptr;
    }
    if (at != nullptr) {
      std::vector<std::string> names;
      for (CLI::App* sub : at->get_subcommands([](CLI::App*) { return true; })) {
        if (Visible(sub)) names.push_back(sub->get_name());
      }
      if (at == root.get()) names.push_back("json");
      AddMatching(names, partial, &c.words);
    }
  } else if (name == "name" && w.command->get_parent() != nullptr &&
             w.command->get_parent()->get_name() == "profile" &&
             (w.command->get_name() == "use" || w.command->get_name() == "rm")) {
    AddMatching(ProfileNames(), partial, &c.words);
  }
  std::sort(c.words.begin(), c.words.end());
  c.words.erase(std::unique(c.words.begin(), c.words.end()), c.words.end());
  return c;
}

std::string ReplAdapter::Usage(const std::vector<std::string>& words, bool remaining_only) {
  std::unique_ptr<CLI::App> root = BuildApp(ctx_);
  Walk w = WalkWords(root.get(), words);
  if (w.command == root.get()) return "";
  std::vector<std::string> parts;
  if (!remaining_only) parts.push_back(CommandPath(w.command));

  std::vector<std::string> subs;
  for (CLI::App* sub : w.command->get_subcommands([](CLI::App*) { return true; })) {
    if (Visible(sub)) subs.push_back(sub->get_name());
  }
  if (!subs.empty()) {
    if (!w.positionals.empty()) return "";
    std::string alternatives;
    for (const std::string& s : subs) alternatives += (alternatives.empty() ? "" : "|") + s;
    parts.push_back(alternatives);
  } else {
    size_t index = 0;
    for (const CLI::Option* p : Positionals(w.command)) {
      int max = p->get_items_expected_max();
      bool many = max > 1 || max < 0;
      if (!remaining_only || index >= w.positionals.size() || many) {
        std::string text = Upper(p->get_name()) + (many ? "..." : "");
        parts.push_back(p->get_required() ? text : "[" + text + "]");
      }
      ++index;
    }
    for (const CLI::Option* opt : w.command->get_options()) {
      if (opt->get_positional() || opt->get_lnames().empty()) continue;
      if (opt->get_lnames()[0] == "help") continue;
      if (remaining_only &&
          std::find(w.given.begin(), w.given.end(), opt) != w.given.end()) {
        continue;
      }
      const std::string& lname = opt->get_lnames()[0];
      std::string text = "--" + lname;
      if (TakesValue(opt)) text += " " + ValueName(opt->get_type_name(), lname);
      parts.push_back("[" + text + "]");
    }
  }
  std::string usage;
  for (const std::string& p : parts) usage += (usage.empty() ? "" : " ") + p;
  return usage;
}

}  // namespace kv::cli
