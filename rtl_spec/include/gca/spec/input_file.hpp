// Reading the tools' text inputs safely: only regular files (a FIFO or a device never blocks
// the tools), bounded in size, and JSON parsed with a bounded nesting depth and no duplicate
// keys. Every failure is a gca::Error naming the file.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "gca/spec/error.hpp"

namespace gca {

// Reads the whole file; `what` names it in messages ("parameter file", "scenario file").
// Throws gca::Error when it is not a regular file, cannot be read or exceeds max_bytes.
std::string read_input_file(const std::string& path, std::uint64_t max_bytes,
                            const std::string& what);

// Opens a file for reading without blocking on FIFOs; returns the descriptor after checking
// that it is a regular file (gca::Error otherwise). The caller closes it.
int open_regular_file(const std::string& path, const std::string& what);

// Parses JSON text: depth at most limits::kMaxJsonDepth, duplicate keys rejected, numbers
// that overflow a double rejected; the message names the file and the position.
nlohmann::json parse_json_strict(const std::string& text, const std::string& file);

// Makes arbitrary text safe for a one-line message: control bytes and bytes that are not
// valid UTF-8 become \xNN, and the result is cut to max_bytes (marked with "...").
std::string one_line_text(const std::string& text, std::size_t max_bytes);

// The one-line message of an error within max_bytes: when it is too long, the file's path is
// shortened in its middle first, so that the reason at the end stays whole.
std::string error_line_text(const gca::Error& error, std::size_t max_bytes);

}  // namespace gca
