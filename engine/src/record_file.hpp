// Destination directories (`dir:PATH`): one file per record, never seen half-written.
#pragma once

#include <filesystem>
#include <string_view>

namespace ember::engine {

// Writes `content` to DIR/NAME atomically and durably: a temporary name in DIR, fsync, rename
// over NAME, fsync of DIR. Throws std::system_error naming the path on failure (the temporary
// file is removed).
void write_record_file(const std::filesystem::path& dir, std::string_view name,
                       std::string_view content);

}  // namespace ember::engine
