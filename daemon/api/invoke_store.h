// How Invoke's KV data lives in kvd's store, for the Invoke route tables
// (invoke_api.h: a function's /get, /set...; invoke_admin_api.h: export and
// import).
//
// A project is the namespace PROJECT (app "default") of the caller's tenant,
// so `kv -n PROJECT get KEY` reads what /invoke/PROJECT/set wrote. Project
// names follow kv's namespace names: 1..64 of [A-Za-z0-9._-] (UUIDs fit).
//
// A value is any JSON. A string is stored as its own bytes with
// Content-Type text/plain; charset=utf-8 (so `kv get` prints it as it is);
// anything else (number, boolean, object, array, null) as compact JSON text
// with application/json. Either way the stored size is what Invoke counts
// towards the quota: bytes of the key plus bytes of the string, or of
// JSON.stringify(value). Reading turns a JSON-typed value that parses back
// into JSON and anything else into a string, so keys written by `kv set`
// read as strings unless their content type is JSON.
//
// Thread-safety: free functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/status.h"
#include "daemon/api/namespace.h"
#include "daemon/store/store.h"

namespace kv::daemon {

// What a route table mounted before the project sees: "/{project}/{path}".
struct ProjectPath {
  std::string_view project;  // empty when the path names none
  std::string_view path;     // "/get/k"; "/" when nothing follows the project
};
ProjectPath SplitProjectPath(std::string_view rest);

// InvalidArgument when the project is not a valid namespace name.
Result<NamespaceRef> InvokeProjectNamespace(std::string_view tenant, std::string_view project);

struct InvokeStoredValue {
  std::string bytes;
  std::string content_type;
};

InvokeStoredValue EncodeInvokeValue(const nlohmann::ordered_json& value);
nlohmann::ordered_json DecodeInvokeValue(const store::Entry& entry);

// JSON text that never throws: invalid UTF-8 in a value becomes U+FFFD.
// indent -1: compact; 2: as JSON.stringify(v, null, 2).
std::string DumpInvokeJson(const nlohmann::ordered_json& value, int indent = -1);

}  // namespace kv::daemon
