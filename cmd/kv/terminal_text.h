// Text for a terminal. Keys, values, content types and a server's error
// messages are anyone's bytes: printed to a terminal as they are, an escape
// sequence among them is obeyed, not shown (it can recolour or clear the
// screen, rewrite earlier lines, retitle the window, or set the clipboard
// with OSC 52). What kv prints for people goes through these, as redis-cli
// quotes what it prints on a terminal; -o raw and pipes get the bytes.
#pragma once

#include <string>
#include <string_view>

namespace kv::cli {

// True when `s` is UTF-8 without control characters (C0, DEL, C1); with
// `lines`, line feeds, tabs and the CR of a CRLF are allowed.
bool ShowsAsIs(std::string_view s, bool lines);

// `s` in double quotes, with \" \\ \n \r \t, \xNN for the other control
// bytes and for bytes that are not UTF-8, and \u00NN for C1 controls.
std::string Quoted(std::string_view s);

// `s` when it shows as is on one line, else Quoted(s).
std::string ForTerminal(std::string_view s);

// For a message line: line breaks become spaces, other control characters
// and bytes that are not UTF-8 are written as \xNN (\u00NN for C1).
std::string EscapeControls(std::string_view s);

}  // namespace kv::cli
